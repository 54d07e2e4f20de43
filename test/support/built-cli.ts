/**
 * The built consumer-auth command for tests that run it as a child process: where it is, a build when dist/ is
 * missing or older than the sources (test files run in parallel, so a lock keeps two from building at once), and an
 * environment free of the service's settings.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { settings } from '../../composition/config.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = join(ROOT, 'bin', 'consumer-auth.js')
// The CLI's entry (cli/ is a top-level driver): were this a path tsc no longer writes, every suite would rebuild.
const BUILT = join(ROOT, 'dist', 'cli', 'main.js')

const newestSource = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return Math.max(newest, newestSource(p))
    return e.name.endsWith('.ts') ? Math.max(newest, statSync(p).mtimeMs) : newest
  }, 0)

const stale = (): boolean => {
  const sources = Math.max(...['core', 'adapters', 'composition', 'cli'].map((d) => newestSource(join(ROOT, d))))
  try {
    return statSync(BUILT).mtimeMs < sources
  } catch {
    return true
  }
}

/**
 * Builds dist/ when it is missing or older than the sources (`npm test` has built it already). Test files run in
 * parallel: a lock directory keeps two of them from building at once (bounded wait; a stale lock is taken over).
 */
export const ensureBuilt = async (): Promise<void> => {
  if (!stale()) return
  const lock = join(tmpdir(), 'consumer-auth-test-build.lock')
  const deadline = Date.now() + 110_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      let age = 0
      try {
        age = Date.now() - statSync(lock).mtimeMs
      } catch {
        continue
      }
      if (age > 120_000) {
        try {
          rmdirSync(lock)
        } catch {
          // taken over by another file meanwhile
        }
        continue
      }
      if (Date.now() > deadline) throw new Error(`ensureBuilt: ${lock} held for too long`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  try {
    if (stale()) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' })
  } finally {
    rmdirSync(lock)
  }
}

/** The environment without any of the service's settings, so that only what a test gives counts. */
export const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  for (const s of Object.values(settings)) delete env[s.env]
  delete env['NODE_ENV']
  return env
}
