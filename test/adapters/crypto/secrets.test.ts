/** The secrets codec, generation and loading (SPEC 10): messages name fields, never values. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { decodeSecrets, describeErrors, SecretsCodec, SecretsError, type Secrets } from '../../../adapters/crypto/secrets-codec.js'
import { generateSecrets } from '../../../adapters/crypto/generate-secrets.js'
import { loadSecrets } from '../../../adapters/crypto/load-secrets.js'

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' // 35 bytes
const PEPPER = 'cGVwcGVyLXBlcHBlci1wZXBwZXItcGVwcGVyLXBlcHBlcg' // 35 bytes

const valid = (): Record<string, unknown> => ({
  pepper: PEPPER,
  signingKeys: [{ kid: 'k1', alg: 'HS256', secret: SECRET }],
  activeKid: 'k1',
})

/** The problems the codec reports, as text; asserting on it also checks that no secret is echoed. */
const problems = (doc: unknown): string[] => {
  const r = SecretsCodec.decode(doc)
  if (E.isRight(r)) return []
  const lines = describeErrors(r.left)
  for (const line of lines) {
    expect(line).not.toContain(SECRET.slice(0, 12))
    expect(line).not.toContain(PEPPER.slice(0, 12))
  }
  return lines
}

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'secrets-test-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('SecretsCodec', () => {
  it('decodes a valid document', () => {
    expect(problems(valid())).toEqual([])
  })

  it('names the field at fault and never shows its value', () => {
    const shortSecret = SECRET.slice(0, 20)
    const doc = { ...valid(), signingKeys: [{ kid: 'k1', alg: 'HS256', secret: shortSecret }] }
    const lines = problems(doc)
    expect(lines).toEqual([expect.stringMatching(/^signingKeys\[0\]\.secret: must decode to at least 32 bytes/)])
    expect(lines.join('\n')).not.toContain(shortSecret)
  })

  it('reports every problem with its path', () => {
    const lines = problems({
      pepper: 'not base64url!' + PEPPER,
      signingKeys: [
        { kid: 'k1', alg: 'HS256' },
        { kid: 'k 2', alg: 'RS256', secret: SECRET },
        { kid: 'k3', alg: 'ES256', privateJwk: { kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA', d: SECRET } },
        { kid: 'k4', alg: 'HS256', secret: SECRET, retiredat: 1 },
      ],
      activeKid: 'k1',
      extra: true,
    })
    expect(lines).toEqual(
      expect.arrayContaining([
        'pepper: must be base64url text (A-Z a-z 0-9 - _, no padding)',
        'signingKeys[0].secret: is required',
        'signingKeys[1].alg: must be one of HS256, ES256, EdDSA',
        'signingKeys[2].privateJwk.crv: must be "P-256"',
        'signingKeys[3].retiredat: is not a known field',
        'extra: is not a known field',
      ]),
    )
  })

  it('checks the ring as a whole', () => {
    expect(problems({ ...valid(), signingKeys: [] })).toContain('signingKeys: must hold at least one key')
    expect(problems({ ...valid(), activeKid: 'k9' })).toEqual(['activeKid: names no key of signingKeys'])
    expect(
      problems({ ...valid(), signingKeys: [{ kid: 'k1', alg: 'HS256', secret: SECRET }, { kid: 'k1', alg: 'HS256', secret: SECRET }] }),
    ).toEqual(['signingKeys[1].kid: repeats the kid of signingKeys[0]'])
    expect(problems({ ...valid(), signingKeys: [{ kid: 'k1', alg: 'HS256', secret: SECRET, retiredAt: 5 }] })).toEqual([
      'activeKid: names a retired key (its retiredAt is set)',
    ])
  })

  it('decodeSecrets: bad JSON is reported without the parser quoting it', () => {
    const text = `{"pepper": "${PEPPER}", oops}`
    expect(() => decodeSecrets(text, 'X')).toThrow(SecretsError)
    try {
      decodeSecrets(text, 'X')
    } catch (e) {
      expect((e as Error).message).toBe('The secrets in X are not valid JSON')
    }
  })

  it('decodeSecrets: lists the problems in the message', () => {
    expect(() => decodeSecrets(JSON.stringify({ ...valid(), pepper: 'AAAA' }), 'the file s.json')).toThrow(
      /The secrets in the file s.json are not valid:\n {2}- pepper: must decode to at least 32 bytes/,
    )
  })
})

describe('generateSecrets', () => {
  it.each(['HS256', 'ES256', 'EdDSA'] as const)('generates a valid %s document', async (alg) => {
    const s = await generateSecrets(alg)
    expect(problems(JSON.parse(JSON.stringify(s)))).toEqual([])
    expect(s.signingKeys).toHaveLength(1)
    expect(s.signingKeys[0]?.alg).toBe(alg)
    expect(s.activeKid).toBe(s.signingKeys[0]?.kid)
  })

  it('generates different secrets each time', async () => {
    const [a, b] = await Promise.all([generateSecrets(), generateSecrets()])
    expect(a.pepper).not.toBe(b.pepper)
    expect(a.activeKid).not.toBe(b.activeKid)
  })
})

describe('loadSecrets', () => {
  it('prefers inline JSON over a file', async () => {
    const dir = tempDir()
    const file = join(dir, 'file.json')
    writeFileSync(file, JSON.stringify({ ...valid(), activeKid: 'k2', signingKeys: [{ kid: 'k2', alg: 'HS256', secret: SECRET }] }))
    const s = await loadSecrets({ inline: JSON.stringify(valid()), file, production: true })
    expect(s.activeKid).toBe('k1')
    expect((await loadSecrets({ file, production: true })).activeKid).toBe('k2')
  })

  it('generates into a new file with mode 0600, then reuses it', async () => {
    const dir = tempDir()
    const path = join(dir, 'data', 'nested', 'secrets.json')
    const told: string[] = []
    const first = await loadSecrets({ generateInto: path, production: false, onGenerated: (p) => told.push(p) })
    expect(told).toEqual([path])
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(first)
    const second = await loadSecrets({ generateInto: path, production: false, onGenerated: (p) => told.push(p) })
    expect(second).toEqual(first)
    expect(told).toHaveLength(1)
  })

  it('two instances starting together end up with the same secrets', async () => {
    const path = join(tempDir(), 'secrets.json')
    const all = await Promise.all(Array.from({ length: 5 }, () => loadSecrets({ generateInto: path, production: false })))
    for (const s of all) expect(s).toEqual(all[0])
  })

  it('never overwrites a broken generated file', async () => {
    const path = join(tempDir(), 'secrets.json')
    writeFileSync(path, '{"pepper": 1}')
    await expect(loadSecrets({ generateInto: path, production: false })).rejects.toThrow(/pepper: must be a string/)
    expect(readFileSync(path, 'utf8')).toBe('{"pepper": 1}')
  })

  it('refuses to start in production without secrets, even with a place to generate them', async () => {
    const path = join(tempDir(), 'secrets.json')
    await expect(loadSecrets({ production: true })).rejects.toThrow(SecretsError)
    await expect(loadSecrets({ production: true, generateInto: path })).rejects.toThrow(/in production they are never generated/)
    expect(() => statSync(path)).toThrow()
  })

  it('names a missing or invalid file without its content', async () => {
    const dir = tempDir()
    await expect(loadSecrets({ file: join(dir, 'nope.json'), production: false })).rejects.toThrow(/nope.json does not exist/)
    const file = join(dir, 'bad.json')
    const doc: Secrets = { pepper: PEPPER, signingKeys: [{ kid: 'k1', alg: 'HS256', secret: SECRET.slice(0, 30) }], activeKid: 'k1' }
    writeFileSync(file, JSON.stringify(doc))
    const err = await loadSecrets({ file, production: false }).then(() => new Error('resolved'), (e: unknown) => e as Error)
    expect(err).toBeInstanceOf(SecretsError)
    expect(err.message).toContain('bad.json')
    expect(err.message).toContain('signingKeys[0].secret')
    expect(err.message).not.toContain(SECRET.slice(0, 30))
    expect(err.message).not.toContain(PEPPER)
  })
})
