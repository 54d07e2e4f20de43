/**
 * /openapi.json (SPEC 10): a valid OpenAPI 3.1 document (checked by a real validator) that lists exactly the routes
 * the app's router serves, for every shape of deployment (release, base path, key ring, status mode); whose request
 * schema accepts exactly the bodies the core accepts; and whose response schemas fit the responses actually sent.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecrets } from '../../adapters/crypto/generate-secrets.js'
import { routeTable, SESSION_PATH } from '../../adapters/http/app.js'
import { RELEASE_PATH } from '../../adapters/http/release-route.js'
import { MemoryStore } from '../../adapters/store/memory/memory-store.js'
import { decodeConfig } from '../../composition/config.js'
import { buildContainer } from '../../composition/container.js'
import { TYPES } from '../../composition/services.js'
import { createLogger } from '../../composition/logger.js'
import {
  errorCatalogue, errorCode, errorNames, keyOf, noKey, R15_0_0, R16_2_0, resolveCredentials, type Release,
} from '../../core/index.js'
import { rawRequest, type RawResponse } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY, EXAMPLE_KEY } from '../support/example.js'

type Doc = {
  openapi: string
  paths: Record<string, Record<string, any>>
  components: { schemas: Record<string, any>; responses: Record<string, any>; securitySchemes: Record<string, any> }
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

interface Deployment {
  readonly url: string
  readonly doc: Doc
  readonly routes: ReadonlyArray<{ path: string; methods: ReadonlyArray<string> }>
  readonly store: MemoryStore
  close(): Promise<void>
}

/** The app the container builds for these settings, listening, with its route table and its served document. */
const deploy = async (flags: Record<string, string>, alg: 'HS256' | 'ES256' = 'HS256'): Promise<Deployment> => {
  const secrets = JSON.stringify(await generateSecrets(alg))
  const config = decodeConfig({}, { 'log-level': 'silent', secrets, ...flags })
  if (E.isLeft(config)) throw new Error(config.left)
  const store = new MemoryStore()
  const container = buildContainer(config.right, { store, logger: createLogger('silent') })
  const app = await container.getAsync(TYPES.HttpApp)
  const server: Server = createServer(app.callback())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const served = await rawRequest(url, { method: 'GET', path: '/openapi.json' })
  expect(served.status).toBe(200)
  expect(served.headers['content-type']).toMatch(/^application\/json/)
  return {
    url, doc: served.json as Doc, routes: routeTable(app), store,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

/**
 * An Ajv for the 2020-12 dialect of OpenAPI 3.1, holding the document's component schemas as `components#/$defs/…`,
 * and the document with its references rewritten to match.
 */
const ajvFor = (doc: Doc, strict: boolean): { ajv: Ajv2020; doc: Doc } => {
  const rewritten = JSON.parse(JSON.stringify(doc).replaceAll('"#/components/schemas/', '"components#/$defs/')) as Doc
  const ajv = new Ajv2020({ strict, allErrors: true })
  ajv.addSchema({ $id: 'components', $defs: rewritten.components.schemas })
  return { ajv, doc: rewritten }
}

/** "METHOD path" for every operation of the document. */
const documented = (doc: Doc): string[] =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((k) => HTTP_METHODS.includes(k)).map((m) => `${m.toUpperCase()} ${path}`)).sort()

/** "METHOD path" for every route of the router; HEAD is left out where @koa/router added it beside GET. */
const served = (routes: Deployment['routes']): string[] =>
  routes.flatMap((r) => r.methods.filter((m) => !(m === 'HEAD' && r.methods.includes('GET'))).map((m) => `${m} ${r.path}`)).sort()

const SHAPES: Array<{ name: string; flags: Record<string, string>; alg?: 'ES256' }> = [
  { name: 'the default (R16.2.0, HS256, standard statuses)', flags: {} },
  { name: 'ES256 (a JWKS), no base path, envelope statuses', flags: { 'base-path': '', 'http-status': 'envelope' }, alg: 'ES256' },
  { name: 'R15.0.0 under /api', flags: { release: 'R15.0.0', 'base-path': '/api' } },
  { name: 'R14.0.0 (the method not available)', flags: { release: 'R14.0.0' } },
]

describe.each(SHAPES)('the OpenAPI document of $name', ({ flags, alg }) => {
  let d: Deployment
  beforeAll(async () => {
    d = await deploy(flags, alg)
  })
  afterAll(async () => d.close())

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator()
    const result = await validator.validate(d.doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    expect(d.doc.openapi).toBe('3.1.0')
  })

  it('lists exactly the routes the router serves: none missing, none invented', () => {
    expect(documented(d.doc)).toEqual(served(d.routes))
    expect(served(d.routes)).toContain('GET /openapi.json')
    expect(served(d.routes)).toContain('GET /metrics')
    // Always routed (it follows the ring through reloads); an HS256-only ring answers 404 there.
    expect(served(d.routes)).toContain('GET /.well-known/jwks.json')
  })

  it('has schemas that compile as JSON Schema 2020-12, and an error response for every status an operation answers, each used', () => {
    const { ajv, doc } = ajvFor(d.doc, true)
    for (const name of Object.keys(doc.components.schemas)) expect(() => ajv.compile({ $ref: `components#/$defs/${name}` }), name).not.toThrow()
    for (const [name, response] of Object.entries(doc.components.responses)) {
      expect(() => ajv.compile(response.content['application/json'].schema), name).not.toThrow()
    }
    // Every response component is used by some operation (Redocly's no-unused-components); 405 is no operation's
    // answer (a method the path does not serve) and is described in info; in envelope mode failures are 200s.
    const paths = JSON.stringify(d.doc.paths)
    for (const name of Object.keys(d.doc.components.responses)) expect(paths, name).toContain(`"#/components/responses/${name}"`)
    // The full method (R16.2.0, standard statuses) answers every status of the catalogue but 405.
    if (flags['http-status'] === 'envelope' || flags['release'] !== undefined) return
    const statuses = new Set(Object.values(errorCatalogue).map((e) => e.status).filter((s) => s !== 405))
    expect(Object.keys(d.doc.components.responses)).toHaveLength(statuses.size)
    for (const status of statuses) {
      const names = errorNames.filter((n) => errorCatalogue[n].status === status)
      const response = Object.values(d.doc.components.responses).find((r: any) => names.every((n) => r.description.includes(errorCode(n))))
      expect(response, `a response for ${status}`).toBeDefined()
    }
  })
})

describe('the documented request body', () => {
  let docs: Map<Release, Doc>
  beforeAll(async () => {
    docs = new Map()
    for (const release of [R15_0_0, R16_2_0]) {
      const d = await deploy({ release: `R${release.major}.${release.minor}.${release.patch}` })
      docs.set(release, d.doc)
      await d.close()
    }
  })

  const validatorFor = (doc: Doc) => ajvFor(doc, true).ajv.compile({ $ref: 'components#/$defs/TokenRequest' })

  /** Values of a parameter in the categories of SPEC 3.2, ABSENT being the member left out; absent or valid mostly. */
  const ABSENT = Symbol('absent')
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constant<unknown>(ABSENT) },
    { weight: 3, arbitrary: fc.constantFrom<unknown>('ok-value', 'another') },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(null, '', '  ', 'x'.repeat(513), 'x'.repeat(8193), 42, true, ['a']) },
  )
  /** An object of the members that are not ABSENT, sometimes (1 in 8) with an unknown member too. */
  const object = (members: Record<string, fc.Arbitrary<unknown>>, unknownName: string) =>
    fc.tuple(fc.record(members), fc.nat(7), value).map(([o, n, v]) => {
      const present = Object.fromEntries(Object.entries(o).filter(([, x]) => x !== ABSENT))
      return n === 0 && v !== ABSENT ? { ...present, [unknownName]: v } : present
    })
  const ati = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom<unknown>(ABSENT, null, 'code', 3, []) },
    { weight: 4, arbitrary: object({ authentication_code: value, identifier: value, pass_code: value }, 'unknown_member') },
  )
  /** The three request shapes of SPEC 3, each member still drawn from every category: valid and near-valid bodies. */
  const shaped = fc.oneof(
    object({ access_token_identifier: object({ authentication_code: value }, 'pass_code'), unit: value }, 'organisation'),
    object({ access_token_identifier: object({ identifier: value, pass_code: value }, 'authentication_code'), unit: value }, 'jwt'),
    object({ jwt: value, organisation: value }, 'unit'),
  )
  const body = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom<unknown>([], 'text', 7, null) },
    { weight: 6, arbitrary: object({ jwt: value, access_token_identifier: ati, organisation: value, unit: value }, 'organization') },
    { weight: 6, arbitrary: shaped },
  )

  it.each([
    ['R15.0.0', R15_0_0],
    ['R16.2.0', R16_2_0],
  ] as const)('accepts exactly the bodies the core accepts with some key choice, at %s', (_name, release) => {
    const validate = validatorFor(docs.get(release)!)
    const coreAccepts = (b: unknown) => [noKey, keyOf(EXAMPLE_KEY)].some((key) => E.isRight(resolveCredentials(release, { body: b, key })))
    // The documented example and the identity-JWT request, explicitly.
    expect(validate(JSON.parse(EXAMPLE_BODY))).toBe(true)
    expect(validate({ jwt: 'a.b.c', organisation: 'ps_dev' })).toBe(release === R16_2_0)
    let accepted = 0
    fc.assert(
      fc.property(body, (b) => {
        const core = coreAccepts(b)
        if (core) accepted++
        expect(validate(b), JSON.stringify(b)).toBe(core)
      }),
      { numRuns: 3000 },
    )
    // Not vacuous: a fair share of the samples are valid requests.
    expect(accepted).toBeGreaterThan(150)
  })

  it('describes every request field and both ways of giving a session token', () => {
    const doc = docs.get(R16_2_0)!
    expect(Object.keys(doc.components.schemas['TokenRequest'].properties).sort()).toEqual(['access_token_identifier', 'jwt', 'organisation', 'unit'])
    expect(Object.keys(doc.components.schemas['AccessTokenIdentifier'].properties).sort()).toEqual(['authentication_code', 'identifier', 'pass_code'])
    expect(doc.components.securitySchemes['consumerApplicationKey']).toMatchObject({ type: 'http', scheme: 'basic' })
    const session = doc.paths[`/crmapi/rest/v2${SESSION_PATH}`]!['get']
    expect(session.security).toEqual([{ sessionTokenQuery: [] }, { sessionTokenBearer: [] }])
    expect(doc.components.securitySchemes['sessionTokenQuery']).toMatchObject({ type: 'apiKey', in: 'query', name: 'token' })
    expect(doc.components.securitySchemes['sessionTokenBearer']).toMatchObject({ type: 'http', scheme: 'bearer' })
  })
})

describe('the documented responses', () => {
  let d: Deployment
  let envelope: Deployment
  beforeAll(async () => {
    ;[d, envelope] = await Promise.all([deploy({}), deploy({ 'http-status': 'envelope' })])
  })
  afterAll(async () => Promise.all([d.close(), envelope.close()]))

  /** Validates a response against what the document says of (path, method, status), falling back to 404/405. */
  const check = (dep: Deployment, path: string, method: string, r: RawResponse) => {
    const { ajv, doc } = ajvFor(dep.doc, false)
    const operation = doc.paths[path]?.[method.toLowerCase()]
    let response = operation?.responses[String(r.status)]
    // Paths and methods that are not operations answer the 404 and 405 of the components (with 200 in envelope mode).
    const name = r.json?.status?.description
    // 405 is no operation's answer: it is the error envelope, with the METHODNOTALLOWED code and an Allow header.
    const methodNotAllowed = { content: { 'application/json': { schema: { $ref: 'components#/$defs/ErrorEnvelope' } } } }
    if (!operation) response = name === 'METHODNOTAVAILABLE' ? doc.components.responses['NotFound'] : name === 'METHODNOTALLOWED' ? methodNotAllowed : undefined
    if (name === 'METHODNOTALLOWED') expect(r.headers['allow'], `${method} ${path}`).toBeDefined()
    if (response?.$ref) response = doc.components.responses[response.$ref.split('/').pop()]
    expect(response, `${method} ${path} ${r.status} is documented`).toBeDefined()
    const media = Object.keys(response.content)[0]!
    expect(r.headers['content-type']).toContain(media)
    if (media !== 'application/json') return
    const validate = ajv.compile(response.content[media].schema)
    expect(validate(r.json), `${method} ${path} ${r.status}: ${r.text} ${JSON.stringify(validate.errors)}`).toBe(true)
  }

  it('fit every response the service sends, in both status modes', async () => {
    for (const dep of [d, envelope]) {
      const token = '/crmapi/rest/v2/authentication/consumer_application_key/token'
      const session = `/crmapi/rest/v2${SESSION_PATH}`
      const release = `/crmapi/rest/v2${RELEASE_PATH}`
      const json = { 'Content-Type': 'application/json' }
      const post = (body: string, headers: Record<string, string> = {}) => rawRequest(dep.url, { path: token, headers: { ...json, ...headers }, body })
      const ok = await post(EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
      const exchanges: Array<[string, string, RawResponse]> = [
        [token, 'POST', ok],
        [token, 'POST', await post('{"unit":"1"}')],
        [token, 'POST', await post('{"access_token_identifier":{"authentication_code":"wrong"}}')],
        [token, 'POST', await post(EXAMPLE_BODY.replace('"1"', '"9"'), { Authorization: EXAMPLE_AUTHORIZATION })],
        [token, 'POST', await rawRequest(dep.url, { path: token, headers: { 'Content-Type': 'text/plain' }, body: 'x' })],
        [token, 'POST', await post(`{"unit":"${'x'.repeat(17_000)}"}`)],
        [session, 'GET', await rawRequest(dep.url, { method: 'GET', path: `${session}?token=${ok.json.data.token}` })],
        [session, 'GET', await rawRequest(dep.url, { method: 'GET', path: session, headers: { Authorization: `Bearer ${ok.json.data.token}` } })],
        [session, 'GET', await rawRequest(dep.url, { method: 'GET', path: `${session}?token=nope` })],
        [release, 'POST', await rawRequest(dep.url, { path: release, headers: json, body: JSON.stringify({ token: ok.json.data.token }) })],
        [release, 'POST', await rawRequest(dep.url, { path: release, headers: { Authorization: `Bearer ${ok.json.data.token}` } })],
        [release, 'POST', await rawRequest(dep.url, { path: release, headers: json, body: '{"token":"nope"}' })],
        [session, 'GET', await rawRequest(dep.url, { method: 'GET', path: `${session}?token=${ok.json.data.token}` })],
        ['/health/live', 'GET', await rawRequest(dep.url, { method: 'GET', path: '/health/live' })],
        ['/health/ready', 'GET', await rawRequest(dep.url, { method: 'GET', path: '/health/ready' })],
        ['/metrics', 'GET', await rawRequest(dep.url, { method: 'GET', path: '/metrics' })],
        ['/nope', 'GET', await rawRequest(dep.url, { method: 'GET', path: '/nope' })],
        [token, 'DELETE', await rawRequest(dep.url, { method: 'DELETE', path: token })],
      ]
      dep.store.unavailable = true
      try {
        exchanges.push([token, 'POST', await post(EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })])
        exchanges.push(['/health/ready', 'GET', await rawRequest(dep.url, { method: 'GET', path: '/health/ready' })])
      } finally {
        dep.store.unavailable = false
      }
      const statuses = exchanges.map(([, , r]) => r.status)
      if (dep === d) expect(statuses).toEqual([200, 400, 401, 403, 415, 413, 200, 200, 401, 200, 200, 401, 401, 200, 200, 200, 404, 405, 503, 503])
      // Envelope mode: every failure is 200, except readiness, which keeps its real status for load balancers.
      else expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 503])
      for (const [path, method, r] of exchanges) check(dep, path, method, r)
    }
  })
})
