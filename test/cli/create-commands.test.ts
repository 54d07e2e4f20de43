/**
 * The create and list commands are derived from the entry table (adapters/provisioning/entries.ts): each create
 * command has one flag per field of its entry (but the fields it makes itself), mandatory exactly when the codec's
 * field is and has no default, repeatable for a list, with the table's help; each list command filters by
 * organisation exactly when its entry belongs to one; and a problem is reported by a flag the command has.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { entryNames, entryRow, isMade } from '../../adapters/provisioning/entries.js'
import { commandHelp, type CliIo } from '../../cli/kit.js'
import { commands, main } from '../../cli/main.js'
import { entryFlags } from '../../cli/provisioning-commands.js'

const command = (...path: string[]) => commands.find((c) => c.path.join(' ') === path.join(' '))!
const rows = entryNames.map((name) => [name, entryRow(name)] as const)

describe('create commands from the entry table', () => {
  it.each(rows)('%s: one flag per field it does not make, as the codec and the table say', (name, row) => {
    const create = command(row.noun, 'create')
    const flags = entryFlags(name)
    const made = Object.entries(row.fields).filter(([, s]) => isMade(s)).map(([f]) => f)
    expect([...flags.map((f) => f.field), ...made].sort()).toEqual(Object.keys(row.fields).sort())
    expect(Object.keys(create.options)).toEqual([...flags.map((f) => f.flag), 'db', 'secrets-file', 'secrets', 'json'])
    const help = commandHelp('consumer-auth', create)
    for (const f of flags) {
      const option = create.options[f.flag]!
      const list = f.kind === 'list'
      expect(option.required === true, f.flag).toBe(f.field in row.codec.required && !list && f.spec.default === undefined)
      expect(option.multiple === true, f.flag).toBe(list)
      expect(help).toContain(f.spec.help)
      if (f.spec.default !== undefined) expect(help).toContain(`(default ${f.spec.default})`)
    }
  })

  it.each(rows)('%s: the list command filters by organisation when the entry belongs to one', (_, row) => {
    const list = command(row.noun, 'list')
    expect('organisation' in list.options).toBe('organisation' in row.fields)
  })
})

describe('a create command that fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-create-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const run = async (argv: string[]) => {
    let stderr = ''
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => void (stderr += s) }, env: {} }
    const code = await main([...argv, '--db', `sqlite:${join(dir, 'x.db')}`], io)
    return { code, stderr }
  }

  it('names only flags the command has, also for the consumer user it creates with an organisation', async () => {
    const r = await run(['organisations', 'create', '--id', ' acme', '--name', 'Acme', '--consumer-user', 'web'])
    expect(r.code).toBe(2)
    const named = [...r.stderr.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!)
    expect(named.length).toBeGreaterThan(0)
    for (const flag of named) expect(Object.keys(command('organisations', 'create').options)).toContain(flag)
    expect(r.stderr).not.toContain('--organisation')
  })
})
