// Validates FHIR R4 resources (a JSON array of Bundles) read from stdin with the npm `fhir` package
// (FHIR.js: the R4 structure definitions and value sets it ships), reporting unexpected
// properties as errors. Prints "valid", or the error messages and exits 1.
// Run from the directory tests/run-all.sh installs it in: NODE_PATH=target/test-tools/fhir-npm/node_modules.
const { Fhir } = require('fhir');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const fhir = new Fhir();
  const refused = [];
  JSON.parse(input).forEach((bundle, number) => {
    const result = fhir.validate(bundle, { errorOnUnexpected: true });
    const errors = (result.messages || []).filter((m) => m.severity === 'error');
    if (!result.valid || errors.length > 0) {
      refused.push({ bundle: number, errors });
    }
  });
  if (refused.length === 0) {
    console.log('valid');
  } else {
    console.log(JSON.stringify(refused, null, 1));
    process.exit(1);
  }
});
