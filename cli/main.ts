/**
 * @module main
 * The `consumer-auth` command (README.md, the command line): `serve`, `migrate`, `import`, create/list commands for every entity, and the
 * operator's commands (sessions, lockouts, audit, secrets).
 * `main(argv, io)` answers an exit code: 0 done, 1 a failure of the world (database unreachable...), 2 bad input
 * (unknown command or option, bad value, invalid file). bin/consumer-auth.js runs it; so does executing this module.
 */
import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nearestName } from '../core/index.js'
import { SecretsError } from '../adapters/crypto/secrets-codec.js'
import { commandHelp, commandName, parseCommand, UsageError, type CliIo, type Command } from './kit.js'
import { auditCommands } from './audit-commands.js'
import { importCommands } from './import-commands.js'
import { lockoutCommands } from './lockout-commands.js'
import { provisioningCommands } from './provisioning-commands.js'
import { secretsCommands } from './secrets-commands.js'
import { serveCommand, serving } from './serve-command.js'
import { sessionCommands } from './session-commands.js'

const PROGRAM = 'consumer-auth'

export const commands: ReadonlyArray<Command> = [
  serveCommand, ...importCommands, ...provisioningCommands, ...sessionCommands, ...lockoutCommands, ...auditCommands, ...secretsCommands,
]

const groups = [...new Set(commands.map((c) => c.path[0]!))]

const version = (): string => {
  // package.json is one level above cli/ in the sources, two in dist/.
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; dir = dirname(dir), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === PROGRAM && pkg.version) return pkg.version
    } catch {
      // not here: one level up
    }
  }
  return 'unknown'
}

const topHelp = (): string => {
  const width = Math.max(...commands.map((c) => commandName(c).length))
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'CRM.COM Web API method POST authentication/consumer_application_key/token: the service and its provisioning.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${commandName(c).padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help. Commands that read or write data take --db URL (sqlite:PATH or postgres://...;',
    'default $DATABASE_URL, else sqlite:./data/consumer-auth.db) and print JSON with --json (a failure too: {"error":{...}} on stderr).',
    'Exit codes: 0 done, 1 failure (e.g. database unreachable), 2 bad input (unknown command or option, bad value, invalid file).',
    '',
  ].join('\n')
}

const groupHelp = (group: string): string => {
  const members = commands.filter((c) => c.path[0] === group)
  const width = Math.max(...members.map((c) => commandName(c).length))
  return [
    `Usage: ${PROGRAM} ${group} <${members.map((c) => c.path[1]).join('|')}> [options]`,
    '',
    ...members.map((c) => `  ${commandName(c).padEnd(width)}  ${c.summary}`),
    '',
    `Run '${PROGRAM} ${group} <command> --help' for the options of each.`,
    '',
  ].join('\n')
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h'

const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env })

/** Finds the command that argv names; answers it with the remaining arguments. */
const resolve = (argv: ReadonlyArray<string>): { command: Command; rest: string[] } | { help: string; code: number } => {
  const [first, second] = argv
  if (first === undefined) return { help: topHelp(), code: 2 }
  if (isHelp(first)) return { help: topHelp(), code: 0 }
  if (first === '--version' || first === '-V') return { help: `${version()}\n`, code: 0 }
  if (first === 'help') {
    const named = argv.slice(1)
    if (named.length === 0) return { help: topHelp(), code: 0 }
    const r = resolve([...named, '--help'])
    return r
  }
  const single = commands.find((c) => c.path.length === 1 && c.path[0] === first)
  if (single) return { command: single, rest: argv.slice(1) }
  if (groups.includes(first)) {
    if (second === undefined) throw new UsageError(`${PROGRAM} ${first}: which one?`, [groupHelp(first).trimEnd()])
    if (isHelp(second)) return { help: groupHelp(first), code: 0 }
    const command = commands.find((c) => c.path[0] === first && c.path[1] === second)
    if (command) return { command, rest: argv.slice(2) }
    const members = commands.filter((c) => c.path[0] === first).map((c) => c.path[1]!)
    const near = nearestName(second, members)
    throw new UsageError(`${PROGRAM} ${first}: unknown command ${JSON.stringify(second)}${near ? ` (did you mean '${first} ${near}'?)` : ''}; ` +
      `try '${PROGRAM} ${first} --help'`)
  }
  const near = nearestName(first, groups)
  throw new UsageError(`${PROGRAM}: unknown command ${JSON.stringify(first)}${near ? ` (did you mean '${near}'?)` : ''}; try '${PROGRAM} --help'`)
}

/** How a failure is reported: its kind decides the exit code (usage and secrets 2, anything else 1). */
interface Failure {
  readonly kind: 'usage' | 'secrets' | 'failure'
  readonly message: string
  readonly lines?: ReadonlyArray<string>
  /** The stable code of a package error (StoreError, SecretsError...). */
  readonly code?: string
}

const failureOf = (e: unknown): Failure => {
  const code = typeof (e as { code?: unknown })?.code === 'string' && /^ERR_CONSUMER_AUTH_/.test((e as { code: string }).code) ? (e as { code: string }).code : undefined
  if (e instanceof UsageError) return { kind: 'usage', message: e.message, lines: e.lines }
  if (e instanceof SecretsError) return { kind: 'secrets', message: e.message, code: e.code }
  return { kind: 'failure', message: e instanceof Error ? e.message : String(e), ...(code ? { code } : {}) }
}

/** Writes a failure to stderr: text, or with --json one JSON object (its message, kind, exit code, code). */
const report = (io: CliIo, name: string, f: Failure, asJson: boolean): number => {
  const exitCode = f.kind === 'failure' ? 1 : 2
  const message = f.message.startsWith(PROGRAM) ? f.message : `${name}: ${f.message}`
  if (asJson) {
    const detail = f.lines && f.lines.length > 0 ? { details: f.lines } : {}
    io.stderr.write(`${JSON.stringify({ error: { kind: f.kind, exitCode, message, ...(f.code ? { code: f.code } : {}), ...detail } })}\n`)
  } else {
    io.stderr.write(`${message}\n${(f.lines ?? []).map((l) => `  ${l}\n`).join('')}`)
  }
  return exitCode
}

/** Runs the command that argv names; answers the exit code. Never throws. */
export const main = async (argv: ReadonlyArray<string>, io: CliIo = processIo()): Promise<number> => {
  let name = PROGRAM
  try {
    const found = resolve(argv)
    if ('help' in found) {
      ;(found.code === 0 ? io.stdout : io.stderr).write(found.help)
      return found.code
    }
    name = `${PROGRAM} ${commandName(found.command)}`
    const parsed = parseCommand(PROGRAM, found.command, found.rest)
    if (parsed === 'help') {
      io.stdout.write(commandHelp(PROGRAM, found.command))
      return 0
    }
    return await found.command.run(parsed, io)
  } catch (e) {
    return report(io, name, failureOf(e), argv.includes('--json'))
  }
}

/**
 * Runs the command of a process: sets the exit code, and ends the process once its output is written, except after
 * a successful `serve`, which keeps running until SIGTERM.
 */
export const run = async (argv: ReadonlyArray<string>): Promise<void> => {
  const code = await main(argv)
  process.exitCode = code
  if (serving.started) return
  await new Promise<void>((done) => process.stdout.write('', () => done()))
  await new Promise<void>((done) => process.stderr.write('', () => done()))
  process.exit(code)
}

const invokedDirectly = (): boolean => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
}

if (invokedDirectly()) void run(process.argv.slice(2))
