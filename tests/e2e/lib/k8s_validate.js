// k8s_validate.js FILE...: every document of each Kubernetes manifest is
// validated offline against the upstream API schemas (the npm package
// kubernetes-models, generated from Kubernetes' OpenAPI); exits 1 naming
// each invalid document and why. NODE_PATH points at its node_modules.
'use strict';
const fs = require('fs');
const YAML = require('yaml');
const models = {
  'v1/Namespace': () => require('kubernetes-models/v1').Namespace,
  'v1/ServiceAccount': () => require('kubernetes-models/v1').ServiceAccount,
  'v1/ConfigMap': () => require('kubernetes-models/v1').ConfigMap,
  'apps/v1/DaemonSet': () => require('kubernetes-models/apps/v1').DaemonSet,
};
let bad = 0, n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const o = doc.toJS();
    if (!o) continue;
    n++;
    const key = `${o.apiVersion}/${o.kind}`;
    const M = models[key];
    if (!M) { console.log(`${file}: ${key}: no model here`); bad++; continue; }
    try { new (M())(o).validate(); }
    catch (e) { console.log(`${file}: ${key} ${o.metadata && o.metadata.name}: ${e.message}`); bad++; }
  }
}
console.error(`${n} documents checked, ${bad} invalid`);
process.exit(bad ? 1 : 0);
