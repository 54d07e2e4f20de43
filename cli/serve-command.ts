/**
 * @module serve-command
 * `consumer-auth serve`: every setting of composition/config.ts has a flag (booleans also a --no- form); flags win
 * over environment variables over defaults; a bad value is a UsageError naming it (exit 2). Then the server runs
 * until SIGTERM/SIGINT.
 */
import * as E from 'fp-ts/lib/Either.js'
import { decodeConfig, settings, type Flags } from '../composition/config.js'
import { StoreNotWritableError } from '../adapters/store/store-readiness.js'
import { flag, str, UsageError, type Command, type OptionSpec } from './kit.js'

const isBoolean = (s: { codec: { name: string } }) => s.codec.name === 'Boolean'

const serveOptions: Record<string, OptionSpec> = Object.fromEntries(
  Object.values(settings).map((s) => [
    s.flag,
    isBoolean(s)
      ? { type: 'boolean', negatable: true, help: `${s.help} [$${s.env}, default ${s.default}]` }
      : {
          type: 'string',
          value: s.codec.name.startsWith('Integer') ? 'N' : s.flag.toUpperCase().replace(/-/g, '_'),
          help: `${s.help} [$${s.env}${s.default === undefined ? '' : `, default ${s.default === '' ? '""' : s.default}`}]`,
        },
  ]),
)

/** Set once the server runs: the process must then stay up (until SIGTERM) instead of exiting after the command. */
export const serving = { started: false }

export const serveCommand: Command = {
  path: ['serve'],
  summary: 'Run the HTTP service (POST {base}/authentication/consumer_application_key/token, the session route, the JWKS, health, metrics and OpenAPI; see docs/behaviour.md).',
  details: [
    'Every option can also be given by its environment variable (shown in brackets); options win.',
    'Outside production, the secrets are generated on first start beside the SQLite file (data/secrets.json), and an',
    'empty database is seeded with the documented example (ps_dev) unless --no-demo or NODE_ENV=production.',
    'A bad value stops the start with a message naming it (exit code 2); so does a database that does not accept writes.',
  ].join('\n'),
  options: serveOptions,
  run: async (args, io) => {
    const flags: Record<string, string | undefined> = {}
    for (const s of Object.values(settings)) {
      if (isBoolean(s)) {
        const b = flag(args, s.flag)
        if (b !== undefined) flags[s.flag] = String(b)
      } else {
        const v = str(args, s.flag)
        if (v !== undefined) flags[s.flag] = v
      }
    }
    const config = decodeConfig(io.env, flags as Flags)
    if (E.isLeft(config)) throw new UsageError(config.left)
    const { runServer } = await import('../composition/server.js')
    try {
      await runServer(config.right)
    } catch (e) {
      // A database the service cannot write is the operator's to fix, as a bad setting is: exit 2.
      if (e instanceof StoreNotWritableError) throw new UsageError(e.message)
      throw e
    }
    serving.started = true
    return 0
  },
}
