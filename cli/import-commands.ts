/**
 * @module import-commands
 * `import` (a provisioning file, validated as a whole, then one transaction) and `migrate`.
 */
import * as E from 'fp-ts/lib/Either.js'
import { formatIssue } from '../adapters/provisioning/import-document.js'
import { describeSummary, importDocumentChecked } from '../adapters/provisioning/import.js'
import { dbOption, jsonOption, storeConfig, storeOptions, withStore } from './context.js'
import { print, readJsonFile, UsageError, type Command } from './kit.js'

const PROGRAM = 'consumer-auth'

const importCommand: Command = {
  path: ['import'],
  summary: 'Import a provisioning file (JSON, see import.schema.json): validated as a whole, then upserted in one transaction.',
  details: [
    'Idempotent: entities are upserted by their natural keys, so importing the same file twice changes nothing.',
    'A file with any problem writes nothing; every problem is printed with the entry and field at fault.',
    'Keys and authentication codes are stored as keyed digests, pass codes as scrypt hashes.',
  ].join('\n'),
  positionals: [{ name: 'FILE', help: 'the JSON file to import' }],
  options: { ...storeOptions, ...jsonOption },
  run: async (args, io) => {
    const file = args.positionals[0]!
    const doc = await readJsonFile(file, 'the import file')
    return withStore(args, io, async (ctx) => {
      const result = await importDocumentChecked(ctx.store, doc, await ctx.importDeps())
      if (E.isLeft(result)) {
        const shown = result.left.slice(0, 50).map(formatIssue)
        const more = result.left.length - shown.length
        throw new UsageError(
          `${PROGRAM} import: ${file} has ${result.left.length} problem${result.left.length === 1 ? '' : 's'}; nothing was imported`,
          more > 0 ? [...shown, `... and ${more} more`] : shown,
        )
      }
      const lines = describeSummary(result.right)
      return print(io, args, result.right, () => `imported ${file}\n${lines.map((l) => `  ${l}\n`).join('')}`)
    })
  },
}

const migrateCommand: Command = {
  path: ['migrate'],
  summary: 'Apply the pending database migrations (serve and every other command also do this on start).',
  options: { ...dbOption, ...jsonOption },
  run: async (args, io) => {
    const config = storeConfig(args, io)
    const { migrateDatabase } = await import('../adapters/store/sql/open-store.js')
    const { applied } = await migrateDatabase(config.db)
    return print(io, args, { applied }, () =>
      applied.length === 0 ? 'the database is up to date\n' : `applied ${applied.length} migration(s):\n${applied.map((a) => `  ${a}\n`).join('')}`)
  },
}

export const importCommands: ReadonlyArray<Command> = [migrateCommand, importCommand]
