/**
 * examples/deployment.json, the provisioning file the README's commands use: it imports as it is, through the CLI
 * (`consumer-auth import`) into SQLite, and its access tokens then open sessions on the served route.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { ROOT } from '../support/built-cli.js'
import { basic, postToken, startTestService } from '../support/service.js'
import { EXAMPLE_IDENTIFIER, EXAMPLE_KEY, EXAMPLE_PASS_CODE } from '../support/example.js'

const capture = () => {
  let text = ''
  return { write: (s: string) => void (text += s), get text() { return text } }
}

describe('examples/deployment.json', () => {
  it('imports with `consumer-auth import` and its identifier + pass code token opens a session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-deployment-'))
    try {
      const db = `sqlite:${join(dir, 'consumer-auth.db')}`
      const out = capture()
      const err = capture()
      const code = await main(['import', join(ROOT, 'examples', 'deployment.json'), '--db', db, '--json'], { stdout: out, stderr: err, env: {} })
      expect(code, err.text).toBe(0)
      expect(JSON.parse(out.text)).toMatchObject({ organisations: { created: 1 }, access_tokens: { created: 2 }, identity_links: { created: 1 } })
      const svc = await startTestService({ db, demo: 'false' })
      try {
        const r = await postToken(svc.url, { access_token_identifier: { identifier: EXAMPLE_IDENTIFIER, pass_code: EXAMPLE_PASS_CODE } }, { Authorization: basic(EXAMPLE_KEY) })
        expect(r.status, r.text).toBe(200)
      } finally {
        await svc.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
