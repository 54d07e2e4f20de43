/**
 * The built consumer-auth command as child processes, for the PostgreSQL tests: `node bin/consumer-auth.js ...`
 * with a clean environment (only what a test gives counts), a shared secrets file, and `serve` processes whose
 * port is read from their "listening" log line. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { BIN, cleanEnv, ensureBuilt, ROOT } from '../support/built-cli.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

export { ensureBuilt }

export const TOKEN_PATH = '/crmapi/rest/v2/authentication/consumer_application_key/token'
export const SESSION_PATH = '/crmapi/rest/v2/authentication/consumer_application_key/session'
export const code = (name: string, area: 'GENERAL' | 'AUTHENTICATION') => `COM.CRM.EXCEPTION.${area}.${name}EXCEPTION`


/** One secrets file (pepper and signing key ring) that every process of a test shares. */
export const writeSecretsFile = async (dir: string): Promise<string> => {
  const path = join(dir, 'secrets.json')
  writeFileSync(path, JSON.stringify(await generateSecrets('HS256')), { mode: 0o600 })
  return path
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs one command of the built CLI to its end (killed after `timeoutMs`). */
export const runCli = (cwd: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

export interface ServeProcess {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  /** The exit code once it exited, else undefined. */
  exitCode(): number | null | undefined
  /** The log so far (bounded: the first lines and the newest ones). */
  stdout(): string
  stderr(): string
  /** SIGTERM, then SIGKILL after `graceMs`; answers the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

const KEEP = 64 * 1024

/** Starts `serve` and waits (bounded) for its "listening" log line; the port is 0 unless `args` gives one. */
export const startServe = (cwd: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<ServeProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
      cwd, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let head = ''
    let tail = ''
    let stderr = ''
    let exit: number | null | undefined
    let port: number | undefined
    const exited = new Promise<number | null>((r) => child.on('close', (c) => {
      exit = c
      r(c)
    }))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve did not start within ${timeoutMs} ms: ${head}${stderr}`))
    }, timeoutMs)
    child.stderr.on('data', (d) => {
      stderr += d
      if (stderr.length > 2 * KEEP) stderr = stderr.slice(-KEEP)
    })
    child.stdout.on('data', (d) => {
      if (port === undefined) {
        head += d
        const line = head.split('\n').find((l) => l.includes('consumer-auth listening'))
        if (line) {
          port = JSON.parse(line).port as number
          clearTimeout(timer)
          resolve(proc(port))
        } else if (head.length > KEEP) head = head.slice(-KEEP)
      } else {
        tail += d
        if (tail.length > 2 * KEEP) tail = tail.slice(-KEEP)
      }
    })
    child.on('error', reject)
    void exited.then((c) => {
      clearTimeout(timer)
      if (port === undefined) reject(new Error(`serve exited with ${c} before listening: ${head}${stderr}`))
    })
    const proc = (p: number): ServeProcess => ({
      url: `http://127.0.0.1:${p}`,
      port: p,
      child,
      exitCode: () => exit,
      stdout: () => head + tail,
      stderr: () => stderr,
      stop: async (graceMs = 15_000) => {
        if (exit !== undefined) return exit
        child.kill('SIGTERM')
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
        try {
          return await exited
        } finally {
          clearTimeout(kill)
        }
      },
    })
  })

export interface Answer {
  readonly status: number
  readonly body: any
  readonly ms: number
}

/** One HTTP request with a client-side timeout: rejects with `TimeoutError` when the service does not answer in time. */
export const request = async (
  url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}, timeoutMs = 10_000,
): Promise<Answer> => {
  const started = performance.now()
  const r = await fetch(url + path, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  const text = await r.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  return { status: r.status, body, ms: performance.now() - started }
}

/** The documented example request (SPEC 4/9) against the token route. */
export const postExample = (url: string, timeoutMs = 10_000): Promise<Answer> =>
  request(url, TOKEN_PATH, {
    method: 'POST',
    headers: { authorization: EXAMPLE_AUTHORIZATION, 'content-type': 'application/json' },
    body: EXAMPLE_BODY,
  }, timeoutMs)
