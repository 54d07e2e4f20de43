/**
 * The command's finish: with --json a failure is a JSON object too (its message, kind and exit code), an unknown
 * option names the nearest known one, and the first start says where it generated the secrets (never what they are).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../cli/main.js'
import { decodeConfig } from '../../composition/config.js'
import { createLogger } from '../../composition/logger.js'
import { startServer } from '../../composition/server.js'

const run = async (argv: string[]) => {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: (s: string) => void (stderr += s) }, env: {} })
  return { code, stdout, stderr }
}

describe('--json failures', () => {
  it('a usage error is one JSON object on stderr, with its exit code', async () => {
    const r = await run(['keys', 'list', '--json', '--db', 'mysql://x'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stderr)).toEqual({ error: { kind: 'usage', exitCode: 2, message: expect.stringContaining('--db') } })
  })
  it('a failure of the world is one too (exit 1), the password of the URL masked', async () => {
    const r = await run(['organisations', 'list', '--json', '--db', 'postgres://u:hunter2@127.0.0.1:1/none'])
    expect(r.code).toBe(1)
    const parsed = JSON.parse(r.stderr)
    expect(parsed).toMatchObject({ error: { kind: 'failure', exitCode: 1, code: 'ERR_CONSUMER_AUTH_STORE' } })
    expect(r.stderr).not.toContain('hunter2')
  })
  it('without --json the failure stays text', async () => {
    const r = await run(['keys', 'list', '--db', 'mysql://x'])
    expect(r.code).toBe(2)
    expect(() => JSON.parse(r.stderr)).toThrow()
  })
})

describe('unknown options', () => {
  it('names the nearest known option', async () => {
    const r = await run(['keys', 'list', '--organisaton', 'ps_dev'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("'--organisaton'")
    expect(r.stderr).toContain("did you mean '--organisation'?")
  })
  it('and serve too, for its settings', async () => {
    const r = await run(['serve', '--lockout-windw', '60'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("did you mean '--lockout-window'?")
  })
  it('no suggestion when nothing is near', async () => {
    const r = await run(['keys', 'list', '--zzzzzzzzzzzz'])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toContain('did you mean')
  })
})

describe('the first start', () => {
  it('logs where it generated the secrets, once, and never their content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-first-'))
    try {
      const lines: string[] = []
      const logger = createLogger('info', { write: (s: string) => void lines.push(s) })
      const config = decodeConfig({}, { db: `sqlite:${join(dir, 'consumer-auth.db')}`, port: '0', host: '127.0.0.1' })
      if (E.isLeft(config)) throw new Error(config.left)
      const first = await startServer(config.right, { logger })
      await first.close()
      const path = join(dir, 'secrets.json')
      const generated = lines.map((l) => JSON.parse(l)).filter((l) => l.msg?.includes('generated the secrets'))
      expect(generated).toHaveLength(1)
      expect(generated[0].path).toBe(path)
      const secrets = JSON.parse(readFileSync(path, 'utf8'))
      expect(lines.join('')).not.toContain(secrets.pepper)
      lines.length = 0
      const second = await startServer(config.right, { logger })
      await second.close()
      expect(lines.filter((l) => l.includes('generated the secrets'))).toHaveLength(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
