/**
 * The built command (`node bin/consumer-auth.js`) as a child process, for what only a real process shows: exit codes,
 * stderr, signals. It runs dist/, built first when missing or stale (`npm test` builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export { BIN, ensureBuilt } from '../support/built-cli.js'
import { BIN } from '../support/built-cli.js'

export interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A temporary working directory (the default ./data goes there), removed by cleanup(). */
export const tempDir = (): { dir: string; cleanup(): void } => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-ops-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The environment of a child: PATH and HOME only, so that the developer's DATABASE_URL or PORT do not leak in. */
export const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'], HOME: process.env['HOME'], ...extra,
})

export const start = (args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): { child: ChildProcess; exited: Promise<Exited> } => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  const exited = new Promise<Exited>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })))
  return { child, exited }
}

export const run = (args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv): Promise<Exited> => start(args, cwd, env).exited

/** Resolves with the first JSON log line on the child's stdout whose msg is `msg`. */
export const logLine = (child: ChildProcess, msg: string, timeoutMs = 20_000): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => done(new Error(`no "${msg}" log line within ${timeoutMs} ms; stdout so far: ${buffered}`)), timeoutMs)
    const onData = (chunk: string) => {
      buffered += chunk
      for (const line of buffered.split('\n')) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>
          if (parsed['msg'] === msg) return done(undefined, parsed)
        } catch {
          // a partial line: wait for the rest
        }
      }
    }
    const onExit = () => done(new Error(`the process exited before logging "${msg}"; stdout: ${buffered}`))
    const done = (err?: Error, line?: Record<string, unknown>) => {
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(line!)
    }
    child.stdout!.on('data', onData)
    child.once('exit', onExit)
  })
