/**
 * A real consumer-auth service for end-to-end tests: in this process, listening on a free loopback port, with its
 * SQLite file and generated secrets in a temporary directory that stop() removes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'node:http'
import * as E from 'fp-ts/lib/Either.js'
import { decodeConfig, type Config } from '../../composition/config.js'
import type { Overrides } from '../../composition/container.js'
import { startServer, type RunningServer } from '../../composition/server.js'

export interface TestService extends RunningServer {
  readonly dir: string
  readonly config: Config
  stop(): Promise<void>
}

export const startTestService = async (flags: Record<string, string> = {}, overrides: Overrides = {}, env: NodeJS.ProcessEnv = {}): Promise<TestService> => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-e2e-'))
  const decoded = decodeConfig(env, { db: `sqlite:${join(dir, 'consumer-auth.db')}`, port: '0', host: '127.0.0.1', 'log-level': 'silent', ...flags })
  if (E.isLeft(decoded)) throw new Error(decoded.left)
  const running = await startServer(decoded.right, overrides)
  return {
    ...running,
    dir,
    config: decoded.right,
    stop: async () => {
      await running.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  readonly json: any
}

/** A request sent exactly as given (no client-side header validation or rewriting). */
export const rawRequest = (url: string, options: { method?: string; path: string; headers?: Record<string, string | string[]>; body?: string | Buffer }): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = request({ host: u.hostname, port: u.port, method: options.method ?? 'POST', path: options.path, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
    })
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })

export const TOKEN_ROUTE = '/crmapi/rest/v2/authentication/consumer_application_key/token'
export const SESSION_ROUTE = '/crmapi/rest/v2/authentication/consumer_application_key/session'

export const basic = (key: string, password = ''): string => `Basic ${Buffer.from(`${key}:${password}`).toString('base64')}`

/** POST a JSON body to the token route. */
export const postToken = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  rawRequest(url, { path: TOKEN_ROUTE, headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
