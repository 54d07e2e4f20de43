/**
 * The consumer-auth command as users run it: `node bin/consumer-auth.js ...` (the built dist/) as a child process,
 * against a SQLite file in a temporary directory, with secrets generated beside it. The build runs once first when
 * dist/ is missing or older than the sources (`npm test` has built it already).
 */
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { settings } from '../../composition/config.js'
import { BIN, cleanEnv, ensureBuilt } from '../support/built-cli.js'
import { commands, main } from '../../cli/main.js'
import type { CliIo } from '../../cli/kit.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_CODE, EXAMPLE_KEY, EXAMPLE_SECRETS, EXAMPLE_SESSION_CLAIMS, exampleDocument, showsSecret } from '../support/example.js'
import { decodeJwtPart } from '../support/jwt.js'


interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

let root: string
let n = 0
/** A fresh directory with its own database; generated secrets land beside the database. */
const workspace = () => {
  const dir = join(root, `w${++n}`)
  execFileSync('mkdir', ['-p', dir])
  const db = `sqlite:${join(dir, 'consumer-auth.db')}`
  const cli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): Promise<Result> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })
  const file = (name: string, content: unknown) => {
    const path = join(dir, name)
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
    return path
  }
  return { dir, db, cli, file }
}

beforeAll(async () => {
  await ensureBuilt()
  root = mkdtempSync(join(tmpdir(), 'consumer-auth-cli-'))
}, 120_000)
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('consumer-auth --help', () => {
  it('answers on the top level and for every command, as a child process', async () => {
    const { cli } = workspace()
    const top = await cli(['--help'])
    expect(top.code).toBe(0)
    for (const c of commands) expect(top.stdout).toContain(c.path.join(' '))
    const results = await Promise.all(commands.map((c) => cli([...c.path, '--help'])))
    results.forEach((r, i) => {
      const c = commands[i]!
      expect(r.code, `${c.path.join(' ')} --help: ${r.stderr}`).toBe(0)
      expect(r.stdout).toContain(`Usage: consumer-auth ${c.path.join(' ')}`)
      for (const name of Object.keys(c.options)) expect(r.stdout).toContain(`--${name}`)
    })
    expect((await cli(['keys', '--help'])).stdout).toContain('keys revoke')
    expect((await cli(['help', 'import'])).stdout).toContain('Usage: consumer-auth import FILE')
    expect((await cli(['sessions', 'revoke', '--help'])).stdout).toContain('Usage: consumer-auth sessions revoke [SESSION_ID] [options]')
    // One process per command (about forty) at once: on a loaded machine that takes longer than one command does.
  }, 120_000)

  it('every setting of the service has a serve flag', async () => {
    const { cli } = workspace()
    const r = await cli(['serve', '--help'])
    for (const s of Object.values(settings)) {
      expect(r.stdout).toContain(`--${s.flag}`)
      expect(r.stdout).toContain(`$${s.env}`)
    }
    expect(r.stdout).toContain('--no-demo')
  })

  it('refuses unknown commands and options with exit code 2', async () => {
    const { cli } = workspace()
    const none = await cli([])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Usage: consumer-auth <command>')
    const typo = await cli(['kyes', 'list'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toContain(`did you mean 'keys'`)
    const sub = await cli(['keys', 'lst'])
    expect(sub.code).toBe(2)
    expect(sub.stderr).toContain(`did you mean 'keys list'`)
    const option = await cli(['keys', 'list', '--colour'])
    expect(option.code).toBe(2)
    expect(option.stderr).toContain(`'--colour'`)
    const missing = await cli(['keys', 'create', '--organisation', 'ps_dev'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--user is required')
  })
})

describe('consumer-auth import and lists', { timeout: 120_000 }, () => {
  it('imports a file; lists show it without any secret; a second import changes nothing', async () => {
    const { cli, db, file } = workspace()
    const path = file('spec.json', exampleDocument())
    const first = await cli(['import', path, '--db', db])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('access_tokens: 2 created, 0 updated')

    const keys = await cli(['keys', 'list', '--json', '--db', db])
    expect(keys.code, keys.stderr).toBe(0)
    const listed = JSON.parse(keys.stdout)
    expect(listed).toEqual([expect.objectContaining({
      prefix: 'EE73C0', organisation: 'ps_dev', user: 'maytemplate', classification: 'CONSUMER_APPLICATION_KEY', status: 'ACTIVE',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    })])
    const tokens = await cli(['access-tokens', 'list', '--json', '--db', db])
    expect(JSON.parse(tokens.stdout)).toHaveLength(2)
    const everything = (await Promise.all(
      ['organisations', 'units', 'users', 'keys', 'consumers', 'access-tokens', 'identity-providers', 'identity-links']
        .flatMap((e) => [cli([e, 'list', '--db', db]), cli([e, 'list', '--json', '--db', db])]),
    )).map((r) => {
      expect(r.code, r.stderr).toBe(0)
      return r.stdout
    }).join('\n')
    for (const secret of EXAMPLE_SECRETS) expect(showsSecret(everything, secret), secret).toBe(false)
    expect(everything).toContain('maria')
    expect(everything).toContain('https://id.example.com')

    const again = await cli(['import', path, '--db', db, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).access_tokens).toEqual({ created: 0, updated: 2 })
    expect(JSON.parse((await cli(['keys', 'list', '--json', '--db', db])).stdout)).toEqual(listed)
  })

  it('a broken file exits 2, names entry and field, and writes nothing', async () => {
    const { cli, db, file } = workspace()
    const doc = exampleDocument() as any
    delete doc.access_tokens[1].pass_code
    doc.users[0].units.push('9')
    const r = await cli(['import', file('bad.json', doc), '--db', db])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('nothing was imported')
    expect(r.stderr).toContain('access_tokens[1].pass_code: is mandatory when identifier is given')
    expect(r.stderr).toContain('users[0].units[1]: no unit "9"')
    for (const secret of [EXAMPLE_KEY, EXAMPLE_CODE]) expect(r.stderr).not.toContain(secret)
    for (const e of ['organisations', 'keys', 'access-tokens']) {
      const list = await cli([e, 'list', '--json', '--db', db])
      expect(JSON.parse(list.stdout)).toEqual([])
    }
    const notJson = await cli(['import', file('broken.json', '{"units": ['), '--db', db])
    expect(notJson.code).toBe(2)
    expect(notJson.stderr).toContain('is not JSON')
    const absent = await cli(['import', 'absent.json', '--db', db])
    expect(absent.code).toBe(2)
    expect(absent.stderr).toContain('absent.json cannot be read')
  })

  it('a bad --db or DATABASE_URL exits 2 naming it', async () => {
    const { cli } = workspace()
    const flag = await cli(['keys', 'list', '--db', 'mysql://localhost/x'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('--db')
    expect(flag.stderr).toContain('DATABASE_URL')
    const env = await cli(['organisations', 'list'], { DATABASE_URL: 'sqlite:' })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('Invalid DATABASE_URL')
  })

  it('uses DATABASE_URL, else ./data/consumer-auth.db with secrets generated in ./data', async () => {
    const { cli, dir, db, file } = workspace()
    expect((await cli(['import', file('spec.json', exampleDocument())])).code).toBe(0)
    expect(readdirSync(join(dir, 'data')).sort()).toEqual(expect.arrayContaining(['consumer-auth.db', 'secrets.json']))
    expect(statSync(join(dir, 'data', 'secrets.json')).mode & 0o777).toBe(0o600)
    expect(JSON.parse((await cli(['organisations', 'list', '--json'], { DATABASE_URL: db })).stdout)).toEqual([])
  })
})

describe('consumer-auth create commands', { timeout: 120_000 }, () => {
  it('keys create prints a new key once; keys revoke takes the key or the digest', async () => {
    const { cli, db, file } = workspace()
    expect((await cli(['import', file('spec.json', exampleDocument()), '--db', db])).code).toBe(0)
    const created = await cli(['keys', 'create', '--organisation', 'ps_dev', '--user', 'maytemplate', '--db', db, '--json'])
    expect(created.code, created.stderr).toBe(0)
    const out = JSON.parse(created.stdout)
    expect(out.key).toMatch(/^[0-9A-F]{32}$/)
    expect(out.prefix).toBe(out.key.slice(0, 6))
    const text = await cli(['keys', 'create', '--organisation', 'ps_dev', '--user', 'maytemplate', '--classification', 'SYSTEMIC_KEY', '--db', db])
    expect(text.code, text.stderr).toBe(0)
    const textKey = /key:\s+([0-9A-F]{32})/.exec(text.stdout)?.[1]
    expect(textKey).toBeDefined()

    const list = await cli(['keys', 'list', '--db', db])
    expect(list.stdout).not.toContain(out.key)
    expect(list.stdout).not.toContain(textKey)
    expect(list.stdout).toContain(out.prefix)
    expect(list.stdout).toContain('SYSTEMIC_KEY')

    const byKey = await cli(['keys', 'revoke', out.key, '--db', db])
    expect(byKey.code, byKey.stderr).toBe(0)
    expect(byKey.stdout).toContain(`revoked: key ${out.prefix}`)
    const exampleDigest = listDigest(JSON.parse((await cli(['keys', 'list', '--json', '--db', db])).stdout), 'EE73C0')
    const byDigest = await cli(['keys', 'revoke', exampleDigest, '--db', db])
    expect(byDigest.code, byDigest.stderr).toBe(0)
    const statuses = Object.fromEntries(JSON.parse((await cli(['keys', 'list', '--json', '--db', db])).stdout).map((k: any) => [k.prefix, k.status]))
    expect(statuses).toEqual({ EE73C0: 'REVOKED', [out.prefix]: 'REVOKED', [textKey!.slice(0, 6)]: 'ACTIVE' })
    const unknown = await cli(['keys', 'revoke', 'NOT-A-KEY', '--db', db])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no key')
    const nobody = await cli(['keys', 'create', '--organisation', 'ps_dev', '--user', 'nobody', '--db', db])
    expect(nobody.code).toBe(2)
    expect(nobody.stderr).toContain('--user: no user "nobody"')
  })

  it('creates an organisation from scratch through to an access token, and suspends it', async () => {
    const { cli, db, file } = workspace()
    const run = async (...args: string[]) => {
      const r = await cli([...args, '--db', db])
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      return r.stdout
    }
    expect(await run('organisations', 'create', '--id', 'acme', '--name', 'Acme', '--consumer-user', 'web')).toContain('created its consumer user web')
    await run('units', 'create', '--organisation', 'acme', '--id', 'hq', '--name', 'HQ')
    await run('users', 'create', '--organisation', 'acme', '--username', 'app', '--default-unit', 'hq', '--unit', 'hq')
    await run('organisations', 'create', '--id', 'acme', '--name', 'Acme Ltd', '--consumer-user', 'app')
    await run('consumers', 'create', '--organisation', 'acme', '--contact-information-id', 'C1', '--accounts-receivable-id', 'A1')
    const bad = await cli(['access-tokens', 'create', '--organisation', 'acme', '--accounts-receivable-id', 'A1', '--identifier', 'bob', '--db', db])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--pass-code: is mandatory when identifier is given')
    const token = JSON.parse(await run('access-tokens', 'create', '--organisation', 'acme', '--accounts-receivable-id', 'A1',
      '--identifier', 'bob', '--pass-code', '2468', '--valid-to', '2099-01-01T00:00:00Z', '--json'))
    expect(token).toMatchObject({ id: expect.stringMatching(/^[0-9A-F]{32}$/), identifier: 'bob', state: 'EFFECTIVE', valid_to: '2099-01-01T00:00:00Z' })
    await run('access-tokens', 'create', '--organisation', 'acme', '--accounts-receivable-id', 'A1', '--authentication-code', 'long-random-code-1')
    expect(await run('access-tokens', 'suspend', token.id)).toContain('suspended (was EFFECTIVE)')
    const tokens = JSON.parse(await run('access-tokens', 'list', '--organisation', 'acme', '--json'))
    expect(tokens.map((t: any) => [t.credential, t.state]).sort()).toEqual([['authentication_code', 'EFFECTIVE'], ['identifier', 'SUSPENDED']])
    expect(JSON.stringify(tokens)).not.toContain('2468')
    expect(JSON.stringify(tokens)).not.toContain('long-random-code-1')
    expect((await cli(['access-tokens', 'suspend', 'NOPE', '--db', db])).code).toBe(2)

    const jwks = file('jwks.json', { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] })
    await run('identity-providers', 'create', '--issuer', 'https://id.acme.test', '--audience', 'crm', '--jwks-file', jwks)
    await run('identity-links', 'create', '--issuer', 'https://id.acme.test', '--subject', 's-1', '--organisation', 'acme', '--accounts-receivable-id', 'A1')
    expect(JSON.parse(await run('identity-providers', 'list', '--json'))).toEqual([{ issuer: 'https://id.acme.test', audience: 'crm', key_ids: ['k1'] }])
    expect(JSON.parse(await run('identity-links', 'list', '--json'))).toHaveLength(1)
    const privateJwk = file('private.json', { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] })
    const refused = await cli(['identity-providers', 'create', '--issuer', 'https://x.test', '--audience', 'crm', '--jwks-file', privateJwk, '--db', db])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--jwks-file (keys[0]): holds private key material')
    const users = JSON.parse(await run('users', 'list', '--organisation', 'acme', '--json')) as Array<{ username: string }>
    expect(users.sort((a, b) => a.username.localeCompare(b.username))).toEqual([
      { organisation: 'acme', username: 'app', default_unit: 'hq', units: ['hq'] },
      { organisation: 'acme', username: 'web', default_unit: null, units: [] },
    ])
  })
})

const listDigest = (keys: Array<{ prefix: string; digest: string }>, prefix: string) => keys.find((k) => k.prefix === prefix)!.digest

describe('consumer-auth serve', () => {
  /** Starts `serve`, waits for its "listening" log line, answers its base URL and a stop function. */
  const serve = async (cwd: string, args: ReadonlyArray<string>) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
      cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stdout}${stderr}`)), 20_000)
      child.stdout.on('data', (d) => {
        stdout += d
        const line = stdout.split('\n').find((l) => l.includes('consumer-auth listening'))
        if (line) {
          clearTimeout(timer)
          resolve(JSON.parse(line).port)
        }
      })
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stdout}${stderr}`)))
    })
    return {
      url: `http://127.0.0.1:${port}`,
      logs: () => stdout,
      stop: async () => {
        child.kill('SIGTERM')
        return exited
      },
    }
  }
  const postExample = (url: string) =>
    fetch(`${url}/crmapi/rest/v2/authentication/consumer_application_key/token`, {
      method: 'POST',
      headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json' },
      body: EXAMPLE_BODY,
    })

  it('a bad setting exits 2 naming it', async () => {
    const { cli } = workspace()
    const r = await cli(['serve', '--release', '15.0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--release')
    expect(r.stderr).toContain('CRM_RELEASE')
    const env = await cli(['serve'], { PORT: 'eighty' })
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('PORT')
  })

  it('serves what the CLI imported: the documented example at R16.2.0 and R15.0.0, 404 METHODNOTAVAILABLE below', async () => {
    const { dir, db, cli, file } = workspace()
    expect((await cli(['import', file('spec.json', exampleDocument()), '--db', db])).code).toBe(0)

    const current = await serve(dir, ['--db', db, '--no-demo'])
    try {
      const r = await postExample(current.url)
      const body = (await r.json()) as any
      expect(r.status, JSON.stringify(body)).toBe(200)
      const claims = decodeJwtPart(body.data.token, 1)
      expect(claims).toMatchObject(EXAMPLE_SESSION_CLAIMS)
    } finally {
      expect(await current.stop()).toBe(0)
    }
    for (const secret of [EXAMPLE_KEY, EXAMPLE_CODE]) expect(current.logs()).not.toContain(secret)

    // SPEC 2: the method exists from R15.0.0 on (key mandatory there), and below it answers 404 METHODNOTAVAILABLE.
    const r15 = await serve(dir, ['--db', db, '--release', 'R15.0.0', '--no-demo'])
    try {
      expect((await postExample(r15.url)).status).toBe(200)
    } finally {
      expect(await r15.stop()).toBe(0)
    }
    const old = await serve(dir, ['--db', db, '--release', 'R14.9.0', '--no-demo'])
    try {
      const r = await postExample(old.url)
      const body = (await r.json()) as any
      expect(r.status).toBe(404)
      expect(body.status.code).toBe('COM.CRM.EXCEPTION.GENERAL.METHODNOTAVAILABLEEXCEPTION')
    } finally {
      expect(await old.stop()).toBe(0)
    }
  })

  // The service keeps the rows of its SQLite reads while nothing changed them (adapters/store/sql/sqlite-read-cache.ts):
  // a change
  // the CLI commits from another process must still be seen by the next request, and the session route's revocation
  // check must follow it too.
  it('a running server sees what the CLI changes from another process: the next request is refused', async () => {
    const { dir, db, cli, file } = workspace()
    expect((await cli(['import', file('spec.json', exampleDocument()), '--db', db])).code).toBe(0)
    const running = await serve(dir, ['--db', db, '--no-demo', '--revocation-check', '--revocation-cache', '0'])
    const session = (url: string, token: string) =>
      fetch(`${url}/crmapi/rest/v2/authentication/consumer_application_key/session`, { headers: { Authorization: `Bearer ${token}` } })
    try {
      // Warm: the key, its user, the access token and the attempt count are read (and kept) several times.
      let token = ''
      for (let i = 0; i < 3; i++) {
        const r = await postExample(running.url)
        expect(r.status).toBe(200)
        token = ((await r.json()) as any).data.token
      }
      expect((await session(running.url, token)).status).toBe(200)

      // The example's access token with the authentication code (the other one has an identifier and pass code).
      const tokens = JSON.parse((await cli(['access-tokens', 'list', '--json', '--db', db])).stdout) as Array<{ id: string; credential: string }>
      const withCode = tokens.find((t) => t.credential === 'authentication_code')!
      const suspended = await cli(['access-tokens', 'suspend', withCode.id, '--db', db])
      expect(suspended.code, suspended.stderr).toBe(0)
      const afterSuspend = await postExample(running.url)
      expect(afterSuspend.status).toBe(401)
      expect(((await afterSuspend.json()) as any).status.description).toBe('INVALIDACCESSTOKEN')
      // The session issued before is revoked with its access token.
      const revokedSession = await session(running.url, token)
      expect(revokedSession.status).toBe(401)
      expect(((await revokedSession.json()) as any).status.description).toBe('INVALIDTOKEN')

      const digest = listDigest(JSON.parse((await cli(['keys', 'list', '--json', '--db', db])).stdout), 'EE73C0')
      expect((await cli(['keys', 'revoke', digest, '--db', db])).code).toBe(0)
      const afterRevoke = await postExample(running.url)
      expect(afterRevoke.status).toBe(401)
      expect(((await afterRevoke.json()) as any).status.description).toBe('INVALIDAPPLICATIONKEY')
    } finally {
      expect(await running.stop()).toBe(0)
    }
  })

  it('seeds the documented example on a fresh start, and not with --no-demo', async () => {
    const seeded = workspace()
    const demo = await serve(seeded.dir, [])
    try {
      expect((await postExample(demo.url)).status).toBe(200)
    } finally {
      expect(await demo.stop()).toBe(0)
    }
    const bare = workspace()
    const none = await serve(bare.dir, ['--no-demo'])
    try {
      const refused = await postExample(none.url)
      expect(refused.status).toBe(401)
      expect(((await refused.json()) as any).status.description).toBe('INVALIDAPPLICATIONKEY')
    } finally {
      expect(await none.stop()).toBe(0)
    }
    expect(JSON.parse((await bare.cli(['organisations', 'list', '--json'])).stdout)).toEqual([])
  })
})

describe('main() in process', () => {
  const capture = (env: NodeJS.ProcessEnv = {}) => {
    let out = ''
    let err = ''
    const io: CliIo = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env }
    return { io, out: () => out, err: () => err }
  }
  it('answers exit codes without exiting the process', async () => {
    const ok = capture()
    expect(await main(['--help'], ok.io)).toBe(0)
    expect(ok.out()).toContain('Commands:')
    const bad = capture({ DATABASE_URL: 'nope' })
    expect(await main(['keys', 'list'], bad.io)).toBe(2)
    expect(bad.err()).toContain('Invalid DATABASE_URL')
  })
})
