// Validates Argo CD resources (JSON documents, one per line on stdin) with the
// @kubernetes-models/argo-cd models: types and required fields. These models do not
// reject unknown fields; that is a known limit (see scripts/check-deploy.sh).
"use strict";
const readline = require("readline");
const models = {
  Application: require("@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application").Application,
  AppProject: require("@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject").AppProject,
};
let failed = false;
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  const { file, doc } = JSON.parse(line);
  const Model = models[doc.kind];
  if (!Model) {
    console.error(`FAIL: ${file}: no Argo CD model for kind ${doc.kind}`);
    failed = true;
    return;
  }
  try {
    new Model(doc).validate();
    console.log(`ok: ${file}: ${doc.kind}/${doc.metadata.name} matches the Argo CD model`);
  } catch (e) {
    console.error(`FAIL: ${file}: ${doc.kind}/${doc.metadata.name}: ${e.message}`);
    failed = true;
  }
});
rl.on("close", () => process.exit(failed ? 1 : 0));
