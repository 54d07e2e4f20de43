/**
 * What `consumer-auth import` says about a file that is not a valid document (docs/operations.md): a JSON syntax
 * error by line and column only, never a fragment of the file (it holds keys, codes and pass codes in clear); a file
 * nested deeper than the document can be is refused by name of the entry, exit 2, never a crash.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import type { CliIo } from '../../cli/kit.js'
import { firstJsonError } from '../../adapters/provisioning/json-file.js'

const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-import-file-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
const importText = async (text: string) => {
  const file = join(dir, `doc-${++n}.json`)
  writeFileSync(file, text)
  let stdout = ''
  let stderr = ''
  const io: CliIo = { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: (s: string) => void (stderr += s) }, env: {} }
  const code = await main(['import', file, '--db', `sqlite:${join(dir, `db-${n}.db`)}`], io)
  return { code, stdout, stderr, file }
}

const SECRET = 'MyS3cretPassCode'

describe('a JSON syntax error', () => {
  const broken: Array<[string, string, string]> = [
    ['a bare word', `{"access_tokens":[{"pass_code": ${SECRET}}]}`, 'line 1, column 33'],
    ['an unterminated string', `{"access_tokens":[{"pass_code": "${SECRET}`, 'line 1, column 33'],
    ['a trailing comma', `{"access_tokens":[{"pass_code": "${SECRET}",}]}`, 'line 1, column 52'],
    ['a missing colon, on line 3', `{\n  "web_api_keys": [\n    {"key" "${SECRET}"}\n  ]\n}`, 'line 3, column 12'],
    ['a control character in a string', `{"pass_code": "${SECRET}\u0001"}`, 'line 1, column 15'],
    ['content after the document', `{"pass_code": "x"} ${SECRET}`, 'line 1, column 20'],
    ['a bad escape', `{"pass_code": "\\q${SECRET}"}`, 'line 1, column 15'],
  ]
  for (const [what, text, where] of broken) {
    it(`${what}: exit 2, the line and column, no fragment of the file`, async () => {
      const r = await importText(text)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${r.file} is not JSON: syntax error at ${where}`)
      expect(r.stderr).not.toContain(SECRET.slice(0, 6))
      expect(r.stderr).not.toContain('pass_code')
    })
  }

  it('finds no error in valid JSON, whatever its shape', () => {
    for (const text of ['{}', '[]', ' 1 ', '"\\u00e9\\n"', '{"a":[1,-2.5e+3,true,false,null,{"b":{}}],"c":"d"}', '\uFEFF{}'.slice(1)]) {
      expect(firstJsonError(text), text).toBeUndefined()
      expect(() => JSON.parse(text)).not.toThrow()
    }
  })
})

describe('a deeply nested file', () => {
  it('is refused with exit 2, naming the entry and field where it is too deep, without a crash', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`
    const r = await importText(`{"identity_providers":[{"issuer":"https://id.example.com","audience":"crm","jwks":{"keys":[{"kty":"OKP","x":${deep}}]}}]}`)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/identity_providers\[0\]\.jwks\.keys\[0\]\.x(\.a)*: nested deeper than 32 levels/)
    expect(r.stderr.length).toBeLessThan(1_000)
  })

  it('deep arrays anywhere are refused the same way', async () => {
    const r = await importText(`{"organisations":[{"id":"x","name":${'['.repeat(50_000)}${']'.repeat(50_000)},"consumer_user":"u"}]}`)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/organisations\[0\]\.name(\[0\])*: nested deeper than 32 levels/)
  })
})
