//! The `SetAvatar` RPC, which `UserController` hands over whole: validates the request and
//! calls [`Avatars`].

use platform_proto::user::v1 as pb;
use tonic::Status;

use super::Avatars;
use super::service::media_id;
use crate::controller::SetAvatar;
use crate::service::Profile;

pub struct AvatarController {
    avatars: Avatars,
}

impl AvatarController {
    pub fn new(avatars: Avatars) -> Self {
        Self { avatars }
    }
}

#[tonic::async_trait]
impl SetAvatar for AvatarController {
    async fn set_avatar(&self, request: pb::SetAvatarRequest) -> Result<Profile, Status> {
        let media_id = media_id(&request.media_id)?;
        Ok(self.avatars.set(&request.user_id, media_id).await?)
    }
}
