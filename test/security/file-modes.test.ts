/**
 * File modes (docs/security.md, "Files and modes"): whatever the umask, the service creates its data directory 0700
 * and its database files (.db, -wal, -shm) 0600, and generated secrets 0600; it warns at start-up when the secrets
 * file it reads is open to group or others, naming the file and its mode, never its content.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { loadSecrets } from '../../adapters/crypto/load-secrets.js'
import { openSqlStore } from '../../adapters/store/sql/open-store.js'
import { createLogger } from '../../composition/logger.js'
import { startTestService } from '../support/service.js'

const mode = (path: string) => statSync(path).mode & 0o777
const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-modes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('created files are private whatever the umask', () => {
  let umask: number
  beforeEach(() => {
    umask = process.umask(0)
  })
  afterEach(() => void process.umask(umask))

  it('SQLite: the missing directories 0700; the .db, -wal and -shm 0600', async () => {
    const data = join(dir, 'data')
    const path = join(data, 'nested', 'consumer-auth.db')
    const store = await openSqlStore({ engine: 'sqlite', path, url: `sqlite:${path}` })
    try {
      await store.upsertOrganisation({ id: 'o', name: 'O', consumerUser: 'u' })
      expect(mode(data)).toBe(0o700)
      expect(mode(join(data, 'nested'))).toBe(0o700)
      for (const suffix of ['', '-wal', '-shm']) {
        expect(existsSync(path + suffix), suffix).toBe(true)
        expect(mode(path + suffix), `consumer-auth.db${suffix}`).toBe(0o600)
      }
    } finally {
      await store.close()
    }
    // An existing directory is left as it was (it may be /tmp or a mount point).
    expect(mode(dir)).toBe(0o700)
  })

  it('generated secrets: the directory 0700, the file 0600', async () => {
    const path = join(dir, 'generated', 'secrets.json')
    await loadSecrets({ production: false, generateInto: path })
    expect(mode(join(dir, 'generated'))).toBe(0o700)
    expect(mode(path)).toBe(0o600)
  })
})

describe('a secrets file open to others', () => {
  const lines: string[] = []
  const logger = createLogger('info', { write: (s: string) => void lines.push(s) })

  const startWith = async (fileMode: number) => {
    const file = join(dir, `secrets-${fileMode.toString(8)}.json`)
    const secrets = await generateSecrets()
    writeFileSync(file, JSON.stringify(secrets))
    chmodSync(file, fileMode)
    lines.length = 0
    const svc = await startTestService({ 'secrets-file': file, demo: 'false' }, { logger })
    await svc.stop()
    return { file, secrets, warnings: lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['level'] === 40) }
  }

  it('is named with its mode in a warning at start-up, without any of its content', async () => {
    const { file, secrets, warnings } = await startWith(0o644)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ path: file, mode: '0644', msg: expect.stringMatching(/secrets file can be read or written by group or others/) })
    const text = lines.join('')
    expect(text.includes(secrets.pepper)).toBe(false)
    const key = secrets.signingKeys[0]!
    if (!('secret' in key)) throw new Error('generateSecrets() makes an HS256 ring by default')
    expect(text).not.toContain(key.secret)
  })

  it('gives no warning for a file of mode 0600 or 0400', async () => {
    expect((await startWith(0o600)).warnings).toEqual([])
    expect((await startWith(0o400)).warnings).toEqual([])
  })
})
