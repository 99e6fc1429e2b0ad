// Validates the Prometheus Operator's objects (PodMonitor, and any other monitoring.coreos.com
// kind) against the schemas of its CRDs, as @kubernetes-models/prometheus-operator ships them;
// kubernetes-validate knows only the built-in kinds. These schemas check types, required
// fields and enums, not unknown fields.
//
// Usage: node operator-kinds.mjs MODELS_DIR OBJECTS.json, where MODELS_DIR holds the npm
// install (validate.sh makes it) and OBJECTS.json is a JSON array of objects. Prints a line
// per object and exits non-zero if one is invalid or of a kind the models do not know.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modelsDir, objectsFile] = process.argv.slice(2);
const objects = JSON.parse(readFileSync(objectsFile, "utf8"));
let failed = false;
for (const object of objects) {
  const [group, version] = object.apiVersion.split("/");
  const where = `${object.kind}/${object.metadata?.name}`;
  const module =
    `${modelsDir}/node_modules/@kubernetes-models/prometheus-operator/${group}/${version}/index.js`;
  let kinds;
  try {
    kinds = await import(pathToFileURL(module));
  } catch {
    kinds = {};
  }
  const Kind = kinds[object.kind];
  if (!Kind) {
    console.error(`   ${where}: no schema for ${object.apiVersion} ${object.kind}`);
    failed = true;
    continue;
  }
  try {
    new Kind(object).validate();
    console.log(`   ${where}: valid (${object.apiVersion})`);
  } catch (error) {
    console.error(`   ${where}: ${error.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
