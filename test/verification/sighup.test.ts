/**
 * Key rotation in a real process (docs/key-rotation.md): `consumer-auth serve` as a child, its generated
 * ./data/secrets.json rotated, then SIGHUP. The process keeps serving, logs the reload (or why not, keeping its keys),
 * signs with the new kid and verifies the old tokens. Runs the built command (`npm run build` first, as `npm test` does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { ensureBuilt, logLine, start, tempDir, type Exited } from '../ops/child.js'
import { SESSION_ROUTE } from '../support/service.js'
import { hs256Key, issueToken, kidOf, readSecrets, sendToken, writeSecrets } from './support.js'

describe('SIGHUP reloads the signing keys of a running `consumer-auth serve`', () => {
  const tmp = tempDir()
  let child: ChildProcess
  let exited: Promise<Exited>
  let url: string
  const path = join(tmp.dir, 'data', 'secrets.json')

  beforeAll(async () => {
    await ensureBuilt()
    ;({ child, exited } = start(['serve', '--port', '0', '--host', '127.0.0.1'], tmp.dir))
    const listening = await logLine(child, 'consumer-auth listening')
    url = `http://127.0.0.1:${String(listening['port'])}`
  })
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    tmp.cleanup()
  })

  it('signs with the new kid after SIGHUP, verifies old tokens, and logs no secret', async () => {
    const before = readSecrets(path)
    const oldToken = await issueToken(url)
    expect(kidOf(oldToken)).toBe(before.activeKid)

    const next = hs256Key('sighup-rotated')
    writeSecrets(path, {
      ...before,
      signingKeys: [next, ...before.signingKeys.map((k) => ({ ...k, retiredAt: Math.floor(Date.now() / 1000) }))],
      activeKid: next.kid,
    })
    const reloaded = logLine(child, 'signing keys reloaded')
    child.kill('SIGHUP')
    expect(await reloaded).toMatchObject({ activeKid: 'sighup-rotated', alg: 'HS256' })

    const newToken = await issueToken(url)
    expect(kidOf(newToken)).toBe('sighup-rotated')
    for (const token of [oldToken, newToken]) {
      const r = await sendToken(url, SESSION_ROUTE, 'query', token)
      expect(r.status, r.text).toBe(200)
    }
  })

  it('keeps serving with its keys when the file is broken, and says so in the log', async () => {
    const good = readSecrets(path)
    writeSecrets(path, { ...good, activeKid: 'missing-kid' })
    const failed = logLine(child, 'signing keys not reloaded: the keys in use stay')
    child.kill('SIGHUP')
    const line = await failed
    expect(String(line['reason'])).toMatch(/activeKid: names no key of signingKeys/)
    expect(kidOf(await issueToken(url))).toBe('sighup-rotated')
    writeSecrets(path, good)
  })

  it('stops with exit code 0 on SIGTERM, and no secret or token was ever logged', async () => {
    const secrets = readSecrets(path)
    child.kill('SIGTERM')
    const done = await exited
    expect(done.code).toBe(0)
    for (const k of secrets.signingKeys) if (k.alg === 'HS256') expect(done.stdout).not.toContain(k.secret)
    expect(done.stdout).not.toContain(secrets.pepper)
    expect(done.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/)
  })
})
