#!/usr/bin/env node
// In-process micro-benchmarks (no HTTP), each as a ratio against its baseline run alternately in this process:
//   issue use case (memory store, real digest, key ring, limiter, audit)  vs  jose SignJWT alone
//   verify use case (real key ring), 20 000 distinct tokens in turn         vs  jose jwtVerify alone, the same tokens
//     (more tokens than the ring remembers: every verification checks a signature; one token again and again is
//     the `verify, one token` case, answered from the ring's memory of verified tokens)
//   pass-code verify (scryptHasher)                                        vs  raw crypto.scrypt, same parameters
//   body parse: JSON.parse + duplicate-name scan (json-body.ts)            vs  JSON.parse alone (the example, 16 KiB)
//   with --against DIR, also: issue use case of this build                 vs  the same of another build (DIR holds
//     its dist/: an A/B of a core change in one process, same store, same key ring; DIR must lie inside the project
//     so that fp-ts resolves)
//
//   npm run bench:micro [-- --quick] [-- --rounds 5 --ms 2000] [-- --against DIR]
import { scrypt as scryptCb, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { jwtVerify, SignJWT } from 'jose'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = (p) => import(join(root, 'dist', p))
const { values: opts } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, ms: { type: 'string' }, against: { type: 'string' } } })
const rounds = Number(opts.rounds ?? (opts.quick ? 1 : 5))
const ms = Number(opts.ms ?? (opts.quick ? 300 : 2000))

const core = await dist('core/index.js')
const { MemoryStore } = await dist('adapters/store/memory/memory-store.js')
const { hmacDigest } = await dist('adapters/crypto/hmac-digest.js')
const { createKeyRing } = await dist('adapters/crypto/create-key-ring.js')
const { generateSecrets } = await dist('adapters/crypto/generate-secrets.js')
const { scryptHasher, DEFAULT_SCRYPT_PARAMS } = await dist('adapters/crypto/scrypt-hasher.js')
const { randomSessionIds } = await dist('adapters/crypto/session-ids.js')
const { systemClock } = await dist('adapters/clock/system-clock.js')
const { importDocument } = await dist('adapters/provisioning/import.js')
const { demoDocument } = await dist('adapters/provisioning/demo.js')
const { firstDuplicateName } = await dist('adapters/http/duplicate-names.js')

const secrets = await generateSecrets()
const ring = await createKeyRing(secrets, systemClock)
const hmacSecret = Buffer.from(secrets.signingKeys[0].secret, 'base64url')
const digest = hmacDigest(Buffer.from(secrets.pepper, 'base64url'))
const hasher = scryptHasher()
const store = new MemoryStore()
const imported = await importDocument(store, demoDocument, { digest, hasher, clock: systemClock })
if (E.isLeft(imported)) throw new Error(imported.left.join('\n'))

const issueOf = (c) => c.issueSessionToken({
  release: c.DEFAULT_RELEASE, claimTimes: 'number', clock: systemClock, ids: randomSessionIds, digest, hasher,
  directory: store, keys: store, accessTokens: store, identity: { verify: async () => ({ ok: false, reason: 'none' }) },
  identityLinks: store, limiter: c.attemptLimiter(store), signer: ring.signer, audit: store,
})
const issue = issueOf(core)
const verify = core.verifySessionToken({ verifier: ring.verifier, clock: systemClock })
const request = {
  body: { access_token_identifier: { authentication_code: 'p_kestora1!' }, unit: '1' },
  key: core.keyOf('EE73C0AE64524371B5DDEFF5F7BB2192'),
  clientAddress: '127.0.0.1',
}
const claims = { cii: '2695FED3FCFD4084AB39F44B18889123', usr: 'maytemplate', org: 'ps_dev', ari: '261BF2B79198401D89A79C545F16CBEC', oun: '1' }
const sampleToken = await (async () => {
  const r = await issue(request)()
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right.token
})()

/** Operations per second of `op` run `concurrency` at a time for `ms` milliseconds. */
const rate = async (op, concurrency = 1) => {
  const end = performance.now() + ms
  let n = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await op()
      n++
    }
  }))
  return n / (ms / 1000)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const compare = async (name, baselineName, baseline, subject, concurrency = 1) => {
  await rate(baseline, concurrency)
  await rate(subject, concurrency)
  const ratios = []
  console.log(`\n## ${name} vs ${baselineName}  (${rounds} rounds of ${ms} ms, ${concurrency} at a time)`)
  for (let i = 1; i <= rounds; i++) {
    const a = await rate(baseline, concurrency)
    const b = await rate(subject, concurrency)
    ratios.push(b / a)
    console.log(`round ${i}: baseline ${a.toFixed(0)}/s  subject ${b.toFixed(0)}/s  ratio ${(b / a).toFixed(3)}`)
  }
  console.log(`median ratio: ${median(ratios).toFixed(3)}`)
  return median(ratios)
}

const scrypt = promisify(scryptCb)
const { N, r, p, keyBytes } = DEFAULT_SCRYPT_PARAMS
const passHash = await hasher.hash('4711')
const salt = randomBytes(16)

// Distinct tokens, signed as the service signs them, so that the ring's memory of verified tokens never answers.
const manyTokens = await Promise.all(Array.from({ length: 20_000 }, (_, i) =>
  ring.signer.sign(core.buildClaims(core.newSession({ contactInformationId: claims.cii, accountsReceivableId: claims.ari, username: claims.usr, organisation: claims.org }, '1', systemClock.nowSeconds(), randomSessionIds.newSessionId())))))
let next = 0
const nextToken = () => manyTokens[next++ % manyTokens.length]

const results = {
  issue: await compare('issue use case', 'jose SignJWT alone', () =>
    new SignJWT({ ...claims, jti: randomSessionIds.newSessionId() }).setProtectedHeader({ typ: 'JWT', alg: 'HS256', kid: 'k' }).setIssuedAt().setExpirationTime('2h').sign(hmacSecret),
  async () => {
    const r = await issue(request)()
    if (E.isLeft(r)) throw new Error(r.left.name)
  }),
  verify: await compare('verify use case, a new token each time', 'jose jwtVerify alone', () => jwtVerify(nextToken(), hmacSecret, { algorithms: ['HS256'] }), async () => {
    const r = await verify(nextToken())()
    if (E.isLeft(r)) throw new Error(r.left.name)
  }),
  'verify, one token': await compare('verify use case, one token again and again', 'jose jwtVerify alone', () => jwtVerify(sampleToken, hmacSecret, { algorithms: ['HS256'] }), async () => {
    const r = await verify(sampleToken)()
    if (E.isLeft(r)) throw new Error(r.left.name)
  }),
  passcode: await compare('pass-code verify', 'raw scrypt, same parameters', () => scrypt('4711', salt, keyBytes, { N, r, p, maxmem: 256 * N * r }), async () => {
    if (!(await hasher.verify('4711', passHash))) throw new Error('verify failed')
  }, 4),
}
if (opts.against !== undefined) {
  const other = issueOf(await import(join(resolve(opts.against), 'core/index.js')))
  const run = (f) => async () => {
    const r = await f(request)()
    if (E.isLeft(r)) throw new Error(r.left.name)
  }
  results['issue vs against'] = await compare('issue use case, this build', `the same, ${opts.against}`, run(other), run(issue))
}
/** Synchronous work timed in batches: an await per call would cost more than a body parse. */
const syncRate = (op) => async () => {
  for (let i = 0; i < 1000; i++) op()
}
const exampleBody = JSON.stringify(request.body)
const largeBody = JSON.stringify({ ...request.body, jwt: 'e'.repeat(8000), list: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `n${i}` })) })
for (const [label, text] of [['example body', exampleBody], [`${largeBody.length}-byte body`, largeBody]]) {
  results[`parse ${label}`] = await compare(`parse + duplicate scan, ${label}`, 'JSON.parse alone', syncRate(() => JSON.parse(text)), syncRate(() => {
    JSON.parse(text)
    if (firstDuplicateName(text) !== undefined) throw new Error('a duplicate')
  }))
}
console.log('\n## summary (median ratios)')
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(18)} ${v.toFixed(3)}`)
