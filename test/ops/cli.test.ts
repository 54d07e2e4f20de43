/**
 * The command as a process (SPEC 10): a bad setting stops the start with exit code 2 and a message on stderr naming
 * it; SIGTERM during a slow request lets it finish with 200, then the process exits 0.
 */
import { request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest, TOKEN_ROUTE } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'
import { ensureBuilt, cleanEnv, logLine, run, start, tempDir } from './child.js'

let tmp: ReturnType<typeof tempDir>
beforeAll(async () => {
  await ensureBuilt()
  tmp = tempDir()
}, 120_000)
afterAll(() => tmp.cleanup())

describe('consumer-auth serve with a bad setting', () => {
  const cases: Array<{ what: string; args: string[]; env: Record<string, string>; names: string[] }> = [
    { what: '--port abc', args: ['--port', 'abc'], env: {}, names: ['--port', 'PORT', '"abc"'] },
    { what: 'PORT=abc', args: [], env: { PORT: 'abc' }, names: ['PORT', '"abc"'] },
    { what: 'CRM_RELEASE=R16', args: [], env: { CRM_RELEASE: 'R16' }, names: ['CRM_RELEASE', '"R16"'] },
    { what: '--release 16.2.0', args: ['--release', '16.2.0'], env: {}, names: ['--release', 'CRM_RELEASE'] },
    { what: 'DATABASE_URL=mysql://…', args: [], env: { DATABASE_URL: 'mysql://db/x' }, names: ['DATABASE_URL', 'mysql://db/x'] },
    { what: '--db nowhere', args: ['--db', 'nowhere'], env: {}, names: ['--db', 'DATABASE_URL'] },
  ]
  it.each(cases)('$what: exit code 2, stderr names it, nothing is created', async ({ args, env, names }) => {
    const r = await run(['serve', ...args], tmp.dir, cleanEnv(env))
    expect(r.code, r.stderr).toBe(2)
    for (const name of names) expect(r.stderr).toContain(name)
    expect(r.stdout).toBe('')
  })
})

describe('SIGTERM while a request is in flight', () => {
  it('lets the slow request finish with 200, refuses new connections, and exits 0', async () => {
    const work = tempDir()
    try {
      const { child, exited } = start(['serve', '--port', '0', '--host', '127.0.0.1'], work.dir, cleanEnv({ DATABASE_URL: `sqlite:${work.dir}/ca.db` }))
      const listening = await logLine(child, 'consumer-auth listening')
      const port = Number(listening['port'])
      const url = `http://127.0.0.1:${port}`
      const ready = await rawRequest(url, { method: 'GET', path: '/health/ready' })
      expect(ready.status).toBe(200)

      // The documented example, its body sent in four parts over ~0.9 s; SIGTERM after the second part, when the
      // headers have surely arrived (a connection that has sent nothing yet is idle, and is closed at once).
      const parts = [EXAMPLE_BODY.slice(0, 20), EXAMPLE_BODY.slice(20, 40), EXAMPLE_BODY.slice(40, 60), EXAMPLE_BODY.slice(60)]
      const response = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1', port, method: 'POST', path: TOKEN_ROUTE,
            headers: { Authorization: EXAMPLE_AUTHORIZATION, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(EXAMPLE_BODY) },
          },
          (res) => {
            let body = ''
            res.setEncoding('utf8').on('data', (c: string) => (body += c))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
          },
        )
        req.on('error', reject)
        let i = 0
        const next = () => {
          req.write(parts[i++])
          if (i === 2) child.kill('SIGTERM')
          if (i < parts.length) setTimeout(next, 300)
          else req.end()
        }
        next()
      })
      const stopping = await logLine(child, 'consumer-auth stopping: no new connections, finishing requests in flight')
      expect(stopping['inFlight']).toBe(1)
      // While the slow request is still being received, the port takes no new connections.
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1')
        socket.once('connect', () => socket.destroy() && resolve('connected'))
        socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
      })
      expect(refused).toBe('ECONNREFUSED')

      const answered = await response
      expect(answered.status, answered.body).toBe(200)
      expect(JSON.parse(answered.body).data.token).toMatch(/^eyJ/)
      expect(answered.connection).toBe('close')

      const r = await exited
      expect(r.signal).toBeNull()
      expect(r.code, r.stderr).toBe(0)
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      const msgs = lines.map((l) => l['msg'])
      const slow = lines.findIndex((l) => l['msg'] === 'request' && l['method'] === 'POST')
      expect(slow).toBeGreaterThan(msgs.indexOf('consumer-auth stopping: no new connections, finishing requests in flight'))
      expect(lines[slow]).toMatchObject({ status: 200, path: TOKEN_ROUTE })
      expect(lines[slow]!['ms']).toBeGreaterThan(500)
      expect(msgs.at(-1)).toBe('consumer-auth stopped')
    } finally {
      work.cleanup()
    }
  })
})
