// BSI's CSAF validator (@secvisogram/csaf-validator-lib) over many CSAF 2.0 documents in one
// Node process: a JSON array of documents on stdin, a JSON array of results on stdout, one per
// document: {schema, mandatory, recommended}, each a list of {test, errors, warnings} of the
// tests that did not pass cleanly. Used by tests/csaf_validator.py; see the docstring there.
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import * as recommended from '@secvisogram/csaf-validator-lib/optionalTests.js'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const documents = JSON.parse(Buffer.concat(chunks).toString('utf8'))

async function findings(tests, doc) {
  const failed = []
  for (const test of tests) {
    const result = await test(doc)
    const errors = result.errors ?? []
    const warnings = result.warnings ?? []
    if (result.isValid === false || errors.length || warnings.length) {
      failed.push({ test: test.name, errors, warnings })
    }
  }
  return failed
}

const results = []
for (const doc of documents) {
  results.push({
    schema: await findings([csaf_2_0_strict], doc),
    mandatory: await findings(Object.values(mandatory), doc),
    recommended: await findings(Object.values(recommended), doc),
  })
}
process.stdout.write(JSON.stringify(results))
