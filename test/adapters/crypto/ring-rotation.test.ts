// Tests adapters/crypto/ring-rotation.ts: staging a key keeps the active one; activating retires the one before and
// refuses unknown or retired kids; pruning drops exactly the keys whose tokens have all expired; the file is written
// with mode 0600 and replaced in one step: hundreds of reads during a run of writes each see a whole document.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { activateKey, pruneKeys, stageKey, writeSecretsFile } from '../../../adapters/crypto/ring-rotation.js'
import { decodeSecrets, SecretsError, type Secrets } from '../../../adapters/crypto/secrets-codec.js'
import { generateSecrets } from '../../../adapters/crypto/generate-secrets.js'
import { retiredKeyLifetimeSeconds } from '../../../adapters/crypto/signing-key.js'

const NOW = 1_800_000_000

describe('ring rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-rotation-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('stages a key of the active algorithm (or the one asked for) without changing the active key or the pepper', async () => {
    const s = await generateSecrets('HS256')
    const staged = await stageKey(s)
    expect(staged.secrets.activeKid).toBe(s.activeKid)
    expect(staged.secrets.pepper).toBe(s.pepper)
    expect(staged.secrets.signingKeys.map((k) => [k.kid, k.alg, k.retiredAt])).toEqual([[s.activeKid, 'HS256', undefined], [staged.kid, 'HS256', undefined]])
    const es = await stageKey(s, 'EdDSA')
    expect(es.secrets.signingKeys.at(-1)).toMatchObject({ kid: es.kid, alg: 'EdDSA', privateJwk: expect.objectContaining({ crv: 'Ed25519' }) })
  })

  it('activates a key and retires the one before; refuses unknown and retired kids; activating the active key changes nothing', async () => {
    const s = await generateSecrets('HS256')
    const { secrets: staged, kid } = await stageKey(s, 'ES256')
    const active = activateKey(staged, kid, NOW)
    expect(active.activeKid).toBe(kid)
    expect(active.signingKeys.find((k) => k.kid === s.activeKid)?.retiredAt).toBe(NOW)
    expect(activateKey(active, kid, NOW + 1)).toBe(active)
    expect(() => activateKey(active, 'nope', NOW)).toThrow(SecretsError)
    expect(() => activateKey(active, s.activeKid, NOW)).toThrow(/retired/)
  })

  it('prunes exactly the retired keys whose tokens have all expired', async () => {
    const s = await generateSecrets('HS256')
    const { secrets: two, kid: second } = await stageKey(s)
    const { secrets: three, kid: third } = await stageKey(activateKey(two, second, NOW - retiredKeyLifetimeSeconds))
    const ring = activateKey(three, third, NOW - 10)
    const { secrets: pruned, dropped } = pruneKeys(ring, NOW)
    expect(dropped).toEqual([s.activeKid])
    expect(pruned.signingKeys.map((k) => k.kid)).toEqual([second, third])
    expect(pruneKeys(pruned, NOW).dropped).toEqual([])
    expect(pruneKeys(pruned, NOW - 10 + retiredKeyLifetimeSeconds).dropped).toEqual([second])
  })

  it('writes mode 0600, leaves no temporary file, refuses an invalid ring without touching the file', async () => {
    const path = join(dir, 'secrets.json')
    const s = await generateSecrets('HS256')
    await writeSecretsFile(path, s)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(decodeSecrets(readFileSync(path, 'utf8'), path)).toEqual(s)
    await expect(writeSecretsFile(path, { ...s, activeKid: 'missing' })).rejects.toThrow(SecretsError)
    expect(decodeSecrets(readFileSync(path, 'utf8'), path)).toEqual(s)
    expect(readdirSync(dir)).toEqual(['secrets.json'])
  })

  it('replaces the file in one step: hundreds of concurrent reads during twenty writes each see a whole, valid ring', async () => {
    const path = join(dir, 'busy.json')
    let s: Secrets = await generateSecrets('HS256')
    await writeSecretsFile(path, s)
    const kids = new Set<string>([s.activeKid])
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        const staged = await stageKey(s)
        s = activateKey(staged.secrets, staged.kid, NOW + i)
        kids.add(s.activeKid)
        await writeSecretsFile(path, s)
      }
    })()
    const reads = Promise.all(Array.from({ length: 400 }, async () => decodeSecrets(await readFile(path, 'utf8'), path).activeKid))
    const [, seen] = await Promise.all([writes, reads])
    for (const kid of seen) expect(kids.has(kid)).toBe(true)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })
})
