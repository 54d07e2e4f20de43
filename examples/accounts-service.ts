/**
 * An example of a service that accepts consumer-auth session tokens (docs/behaviour.md, "The token"): a tiny Koa service with one CRM.COM
 * style method, `GET /crmapi/rest/v2/accounts_receivable/show?token=...`, that answers the accounts receivable of the
 * session's consumer and nothing else. It embeds the library; it does not run consumer-auth and has no database.
 *
 * Keys: `JWKS_URL` (an ES256/EdDSA consumer-auth, e.g. http://127.0.0.1:3000/.well-known/jwks.json; no secret needed)
 * or `SECRETS_FILE` (consumer-auth's secrets file, for the default HS256 ring; default ./data/secrets.json).
 * `PORT` (default 4000). SIGHUP reads the secrets file again after a key rotation. See examples/README.md.
 *
 * It imports the package by its own name, as an installed consumer does (in the repository, tsconfig's paths map it to the sources).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { Router } from '@koa/router'
import Koa from 'koa'
import {
  createSessionVerifier, okEnvelope, type CreateSessionVerifierOptions, type EmbeddedSessionVerifier, type SessionState,
} from 'consumer-auth/verify'

/** The example's data: what a real service would read from its own database. */
export interface Account {
  readonly organisation: string
  readonly accountsReceivableId: string
  readonly number: string
  readonly name: string
  readonly balance: number
  readonly currency: string
}

/** Keyed by accounts receivable id. The first is the consumer of CRM.COM's documented example (consumer-auth's demo seed). */
export const DEMO_ACCOUNTS: ReadonlyMap<string, Account> = new Map(
  [
    { organisation: 'ps_dev', accountsReceivableId: '261BF2B79198401D89A79C545F16CBEC', number: 'AR-0001', name: 'May Template', balance: 120.5, currency: 'EUR' },
    { organisation: 'ps_dev', accountsReceivableId: '7C1D0A2B3E4F405162738495A6B7C8D9', number: 'AR-0002', name: 'Other Consumer', balance: 9999, currency: 'EUR' },
  ].map((a) => [a.accountsReceivableId, a] as const),
)

export const SHOW_PATH = '/crmapi/rest/v2/accounts_receivable/show'

/**
 * This service's own failure: the same answer for an account that does not exist and for one that is not the
 * session's, so that a consumer cannot even learn which accounts exist.
 */
const notFound = (ctx: Koa.Context) => {
  ctx.status = 404
  ctx.body = { data: null, status: { code: 'COM.CRM.EXCEPTION.GENERAL.OBJECTNOTFOUNDEXCEPTION', description: 'OBJECTNOTFOUND', message: 'No such accounts receivable' } }
}

export const createAccountsApp = (sessions: EmbeddedSessionVerifier, accounts: ReadonlyMap<string, Account> = DEMO_ACCOUNTS): Koa => {
  const router = new Router()
  router.get(SHOW_PATH, sessions.middleware(), (ctx) => {
    // The middleware answered 401 INVALIDTOKEN already unless the token verified: the session is there.
    const session = (ctx.state as SessionState).session!
    // A consumer session gives access only to its own consumer's data: whatever is asked, only that account is served.
    const asked = ctx.query['accounts_receivable_identifier']
    if (asked !== undefined && asked !== session.accountsReceivableId) return notFound(ctx)
    const account = accounts.get(session.accountsReceivableId)
    if (!account || account.organisation !== session.organisation) return notFound(ctx)
    ctx.body = okEnvelope({ accounts_receivable: account })
  })
  const app = new Koa()
  app.use(router.routes())
  app.use(router.allowedMethods())
  return app
}

export interface AccountsService {
  readonly url: string
  readonly port: number
  readonly sessions: EmbeddedSessionVerifier
  close(): Promise<void>
}

export type AccountsServiceOptions = CreateSessionVerifierOptions & {
  readonly port?: number
  readonly host?: string
  readonly accounts?: ReadonlyMap<string, Account>
}

export const startAccountsService = async (options: AccountsServiceOptions): Promise<AccountsService> => {
  const { port = 4000, host = '127.0.0.1', accounts, ...verifierOptions } = options
  const sessions = await createSessionVerifier(verifierOptions as CreateSessionVerifierOptions)
  const server: Server = createServer(createAccountsApp(sessions, accounts).callback())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const bound = (server.address() as AddressInfo).port
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      }),
  }
}

const main = async () => {
  const env = process.env
  const keys: CreateSessionVerifierOptions = env['JWKS_URL'] ? { jwksUrl: env['JWKS_URL'] } : { secretsFile: env['SECRETS_FILE'] ?? './data/secrets.json' }
  const service = await startAccountsService({ ...keys, port: Number(env['PORT'] ?? 4000), host: env['HOST'] ?? '127.0.0.1' })
  process.stdout.write(`accounts example listening on ${service.url}${SHOW_PATH}?token=...\n`)
  process.on('SIGHUP', () => {
    service.sessions.reload().then(
      () => process.stdout.write('keys reloaded\n'),
      (e: unknown) => process.stderr.write(`keys not reloaded, the keys in use stay: ${e instanceof Error ? e.message : 'unexpected error'}\n`),
    )
  })
  const stop = () => void service.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
