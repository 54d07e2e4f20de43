/**
 * @module kit
 * The little the consumer-auth command needs beyond node:util parseArgs: a command table with help text generated
 * from it, usage errors (exit code 2), and output as aligned text or JSON.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { nearestName } from '../core/index.js'
import { parseJsonText } from '../adapters/provisioning/json-file.js'

interface Output {
  write(text: string): unknown
}

/** What a command talks to: its output streams and the environment. */
export interface CliIo {
  readonly stdout: Output
  readonly stderr: Output
  readonly env: NodeJS.ProcessEnv
}

/** Bad input from the person at the keyboard: a clear message and exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly lines: ReadonlyArray<string> = []) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly help: string
  /** Placeholder of the value in help, e.g. URL. */
  readonly value?: string
  readonly multiple?: boolean
  readonly short?: string
  readonly required?: boolean
  /** A boolean that also has a --no-NAME form. */
  readonly negatable?: boolean
}

interface PositionalSpec {
  readonly name: string
  readonly help: string
  /** May be left out (only the last positionals); the command then says what it needs instead. */
  readonly optional?: boolean
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>
  readonly positionals: ReadonlyArray<string>
}

export interface Command {
  /** e.g. ['keys', 'create'] */
  readonly path: ReadonlyArray<string>
  readonly summary: string
  /** More text for --help, after the usage. */
  readonly details?: string
  readonly positionals?: ReadonlyArray<PositionalSpec>
  readonly options: Readonly<Record<string, OptionSpec>>
  run(args: Parsed, io: CliIo): Promise<number>
}

const helpOption: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h', help: 'show this help' } }

const optionUsage = (name: string, o: OptionSpec): string =>
  `--${name}${o.type === 'string' ? ` ${o.value ?? name.toUpperCase().replace(/-/g, '_')}` : ''}`

const wrapLines = (left: string, text: string, width: number) => `  ${left.padEnd(width)}  ${text}`

export const commandName = (c: Command) => c.path.join(' ')

/** The help of one command: usage, what it does, its arguments and options. */
export const commandHelp = (program: string, c: Command): string => {
  const options = Object.entries(c.options)
  const required = options.filter(([, o]) => o.required).map(([n, o]) => optionUsage(n, o))
  const positional = (c.positionals ?? []).map((p) => (p.optional ? `[${p.name}]` : p.name))
  const usage = [program, ...c.path, ...positional, ...required, options.some(([, o]) => !o.required) ? '[options]' : ''].filter(Boolean).join(' ')
  const positionalRows = (c.positionals ?? []).map((p): [string, string] => [p.name, p.help])
  const optionRows = options.map(([n, o]): [string, string] => [
    `${o.short ? `-${o.short}, ` : ''}${optionUsage(n, o)}${o.negatable ? `, --no-${n}` : ''}`,
    `${o.help}${o.required ? ' (required)' : ''}${o.multiple ? ' (repeatable)' : ''}`,
  ])
  const all = [...positionalRows, ...optionRows, ['-h, --help', 'show this help'] as [string, string]]
  const width = Math.min(34, Math.max(...all.map(([l]) => l.length)))
  const render = (rows: ReadonlyArray<[string, string]>) =>
    rows.map(([l, t]) => (l.length > width ? `  ${l}\n${' '.repeat(width + 4)}${t}` : wrapLines(l, t, width)))
  return [
    `Usage: ${usage}`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    ...(positionalRows.length > 0 ? ['', 'Arguments:', ...render(positionalRows)] : []),
    '',
    'Options:',
    ...render([...optionRows, ['-h, --help', 'show this help']]),
    '',
  ].join('\n')
}

/** Parses a command's arguments strictly: unknown flags, missing values and missing required ones are UsageErrors. */
export const parseCommand = (program: string, c: Command, argv: ReadonlyArray<string>): Parsed | 'help' => {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {}
  for (const [n, o] of Object.entries({ ...c.options, ...helpOption })) {
    options[n] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }
  }
  const negatable = new Set(Object.entries(c.options).filter(([, o]) => o.negatable).map(([n]) => n))
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true, allowNegative: negatable.size > 0 })
  } catch (e) {
    const why = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    // An unknown --name: the nearest option this command has, as the Web API suggests the nearest parameter.
    const unknown = /^Unknown option '--([^'=]+)'/.exec(why)?.[1]
    const near = unknown === undefined ? undefined : nearestName(unknown, Object.keys(c.options))
    throw new UsageError(`${program} ${commandName(c)}: ${why}${near ? ` (did you mean '--${near}'?)` : ''}; see '${program} ${commandName(c)} --help'`)
  }
  // allowNegative accepts --no-X for every boolean; only some of ours have a negative form.
  for (const t of parsed.tokens ?? []) {
    if (t.kind === 'option' && t.rawName.startsWith('--no-') && !negatable.has(t.name)) {
      throw new UsageError(`${program} ${commandName(c)}: Unknown option '${t.rawName}'; see '${program} ${commandName(c)} --help'`)
    }
  }
  if (parsed.values['help'] === true) return 'help'
  const expected = c.positionals ?? []
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`${program} ${commandName(c)}: unexpected argument ${JSON.stringify(parsed.positionals[expected.length])}`)
  }
  const missing = expected.slice(parsed.positionals.length).filter((p) => !p.optional).map((p) => p.name)
  if (missing.length > 0) throw new UsageError(`${program} ${commandName(c)}: missing ${missing.join(', ')}`)
  for (const [n, o] of Object.entries(c.options)) {
    const v = parsed.values[n]
    if (o.required && v === undefined) throw new UsageError(`${program} ${commandName(c)}: --${n} is required`)
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals }
}

export const str = (p: Parsed, name: string): string | undefined => {
  const v = p.values[name]
  return typeof v === 'string' ? v : undefined
}
export const strs = (p: Parsed, name: string): string[] => {
  const v = p.values[name]
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : []
}
export const flag = (p: Parsed, name: string): boolean | undefined => {
  const v = p.values[name]
  return typeof v === 'boolean' ? v : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Output

export type Row = Readonly<Record<string, string | number | boolean | null | undefined | ReadonlyArray<string>>>

const cell = (v: Row[string]): string =>
  v === undefined || v === null ? '-' : Array.isArray(v) ? (v.length === 0 ? '-' : v.join(',')) : String(v)

/** Rows as aligned columns under upper-case headers; "(none)" when there are no rows. */
export const table = (rows: ReadonlyArray<Row>, columns: ReadonlyArray<string>): string => {
  if (rows.length === 0) return '(none)\n'
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => cell(r[c])))]
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

/** Prints `data` as JSON with --json, else `text()`; answers exit code 0. */
export const print = (io: CliIo, args: Parsed, data: unknown, text: () => string): number => {
  io.stdout.write(flag(args, 'json') ? json(data) : text())
  return 0
}

/** Seconds since the epoch as an ISO-8601 date-time (UTC), or undefined. */
export const iso = (seconds: number | undefined): string | undefined =>
  seconds === undefined ? undefined : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')

/** Reads a JSON file; a missing or unparsable file is a UsageError naming it. */
export const readJsonFile = async (path: string, what: string): Promise<unknown> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new UsageError(`${what} ${path} cannot be read (${code === 'ENOENT' ? 'no such file' : code ?? 'error'})`)
  }
  // Never JSON.parse's message: it quotes the file, and the file holds secrets.
  const parsed = parseJsonText(text)
  if (!parsed.ok) throw new UsageError(`${what} ${path} ${parsed.problem}`)
  return parsed.value
}
