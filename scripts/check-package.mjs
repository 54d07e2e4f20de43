#!/usr/bin/env node
// What a new user of the package gets, checked from the packed tarball (CI runs this after the tests):
//   1. `npm pack`: the tarball holds the built code, types, CLI, import schema, README, LICENSE, CHANGELOG, no tests;
//   2. installed into a fresh project outside the checkout, beside koa, @koa/router, TypeScript and @types/koa;
//   3. the examples (examples/*.ts, importing the package by its own name) type-check there, strict, nodenext;
//   4. `npx consumer-auth serve` from the installed package answers the documented example request, and the README's
//      provisioning command imports examples/deployment.json into it;
//   5. the embedding examples run: accept-tokens against the served issuer (its secrets file, its database for the
//      revocation check), embed-issuer as a host app of its own, use-core on the documented request.
// It prints the tarball's files and size, the installed size and what each entry loads, and exits 1 with
// "check-package: FAILED: ..." on the first thing that is wrong. Options: --keep (leave the scratch directory).
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const keep = process.argv.includes('--keep')
const started = Date.now()
const work = mkdtempSync(join(tmpdir(), 'consumer-auth-package-'))
const app = join(work, 'app')
const data = join(work, 'data')

class CheckFailed extends Error {}
const log = (text) => console.log(`check-package: ${text}`)
const check = (ok, what) => {
  if (!ok) throw new CheckFailed(what)
}
const run = (command, args, options = {}) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options })
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
const duBytes = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? duBytes(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0), 0)

const EXAMPLE = {
  headers: { Authorization: 'Basic RUU3M0MwQUU2NDUyNDM3MUI1RERFRkY1RjdCQjIxOTI6', 'Content-Type': 'application/json' },
  body: '{"access_token_identifier":{"authentication_code":"p_kestora1!"},"unit":"1"}',
}
const KEY = 'EE73C0AE64524371B5DDEFF5F7BB2192'
const TOKEN_PATH = '/authentication/consumer_application_key/token'

const pack = () => {
  const [packed] = JSON.parse(run('npm', ['pack', '--pack-destination', work, '--json', '--silent'], { cwd: root }))
  const files = packed.files.map((f) => f.path).sort()
  log(`tarball ${packed.filename}: ${files.length} files, ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked`)
  for (const f of files) console.log(`  ${f}`)
  for (const needed of ['bin/consumer-auth.js', 'dist/composition/index.js', 'dist/composition/index.d.ts', 'dist/adapters/embed/verify.js', 'dist/core/index.js', 'dist/adapters/http/index.js', 'dist/cli/main.js', 'import.schema.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    check(files.includes(needed), `the tarball lacks ${needed}`)
  }
  const stray = files.filter((f) => /^(test|examples|scripts|docs|\.ci)\/|(^|\/)test\/|\.test\.|\.map$|^dist\/examples-build\//.test(f))
  check(stray.length === 0, `the tarball ships what it must not: ${stray.join(', ')}`)
  return join(work, packed.filename)
}

const install = (tarball) => {
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'scratch-consumer', private: true, type: 'module' }, null, 2)}\n`)
  // Install scripts are skipped and better-sqlite3's native binding taken from the checkout when it is the same
  // version (compiling it from source takes minutes on a loaded machine); otherwise it is rebuilt here.
  run('npm', ['install', tarball, 'koa', '@koa/router', 'typescript@5.9', '@types/koa', '@types/node@20', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app })
  const ours = join(root, 'node_modules', 'better-sqlite3')
  const theirs = join(app, 'node_modules', 'better-sqlite3')
  const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  const binding = join(ours, 'build', 'Release', 'better_sqlite3.node')
  if (existsSync(binding) && version(ours) === version(theirs)) {
    mkdirSync(join(theirs, 'build', 'Release'), { recursive: true })
    copyFileSync(binding, join(theirs, 'build', 'Release', 'better_sqlite3.node'))
    log(`better-sqlite3 ${version(theirs)}: native binding taken from the checkout's build of the same version`)
  } else {
    log(`better-sqlite3 ${version(theirs)}: building its native binding`)
    run('npm', ['rebuild', 'better-sqlite3', '--foreground-scripts'], { cwd: app })
  }
  const modules = join(app, 'node_modules')
  const tooling = ['typescript', '@types'].reduce((n, d) => n + (existsSync(join(modules, d)) ? duBytes(join(modules, d)) : 0), 0)
  log(`installed: consumer-auth with koa and @koa/router ${kib(duBytes(modules) - tooling)} (node_modules without typescript and @types; a verify-only consumer installs the same packages)`)
}

const typecheck = () => {
  cpSync(join(root, 'examples'), join(app, 'examples'), { recursive: true, filter: (f) => !f.endsWith('tsconfig.json') && !f.endsWith('README.md') })
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true, skipLibCheck: false, types: ['node'], rootDir: 'examples', outDir: 'build',
    },
    include: ['examples/*.ts'],
  }, null, 2)}\n`)
  run(join(app, 'node_modules', '.bin', 'tsc'), ['-p', app], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] })
  const lines = (f) => readFileSync(join(root, 'examples', f), 'utf8').trimEnd().split('\n').length
  log(`examples type-check (strict, nodenext, no skipLibCheck); lines: accept-tokens.ts ${lines('accept-tokens.ts')}, embed-issuer.ts ${lines('embed-issuer.ts')}, use-core.ts ${lines('use-core.ts')}`)
}

/** The environment without the service's own settings (CI exports DATABASE_URL), so the flags below decide. */
const cleanEnv = async () => {
  const { settings } = await import(pathToFileURL(join(app, 'node_modules', 'consumer-auth', 'dist', 'composition', 'config.js')).href)
  const env = { ...process.env }
  for (const s of Object.values(settings)) delete env[s.env]
  delete env.NODE_ENV
  return env
}

const serve = async () => {
  const env = await cleanEnv()
  const child = spawn(join(app, 'node_modules', '.bin', 'consumer-auth'), ['serve', '--port', '0', '--host', '127.0.0.1', '--db', `sqlite:${join(data, 'consumer-auth.db')}`], {
    cwd: app, env, stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = []
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new CheckFailed(`consumer-auth serve did not start within 30 s:\n${lines.join('')}`)), 30_000)
    child.once('exit', (code) => reject(new CheckFailed(`consumer-auth serve exited with ${code}:\n${lines.join('')}`)))
    let buffered = ''
    child.stdout.on('data', (chunk) => {
      buffered += chunk
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        lines.push(`${line}\n`)
        try {
          const entry = JSON.parse(line)
          if (entry.msg === 'consumer-auth listening') {
            clearTimeout(timer)
            resolve(entry.port)
          }
        } catch {
          // not a log line
        }
      }
    })
  })
  check(lines.some((l) => l.includes('generated the secrets')), 'the first start did not log where it generated the secrets')
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM') }) }
}

const post = (url, path, body, headers = EXAMPLE.headers) => fetch(url + path, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) })

const documentedExample = async (url) => {
  const r = await post(url, `/crmapi/rest/v2${TOKEN_PATH}`, EXAMPLE.body)
  const json = await r.json()
  check(r.status === 200 && json.status?.code === 'OK', `the documented example answered ${r.status} ${JSON.stringify(json)}`)
  const claims = JSON.parse(Buffer.from(json.data.token.split('.')[1], 'base64url').toString('utf8'))
  check(claims.org === 'ps_dev' && claims.ari === '261BF2B79198401D89A79C545F16CBEC' && claims.exp - claims.iat === 7200, `unexpected claims ${JSON.stringify(claims)}`)
  log('npx consumer-auth serve answers the documented example (200, the documented claims)')
  return json.data.token
}

const provision = async (url) => {
  const env = await cleanEnv()
  const out = run(join(app, 'node_modules', '.bin', 'consumer-auth'), ['import', 'examples/deployment.json', '--db', `sqlite:${join(data, 'consumer-auth.db')}`, '--json'], { cwd: app, env })
  check(JSON.parse(out).access_tokens?.created >= 1, `the import of examples/deployment.json answered ${out}`)
  const auth = { ...EXAMPLE.headers, Authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` }
  const r = await post(url, `/crmapi/rest/v2${TOKEN_PATH}`, JSON.stringify({ access_token_identifier: { identifier: 'maria', pass_code: '4711' } }), auth)
  check(r.status === 200, `the imported identifier + pass code answered ${r.status} ${await r.text()}`)
  log("the README's `consumer-auth import examples/deployment.json` works; its identifier + pass code opens a session")
}

const listen = (koa) => new Promise((resolve) => {
  const server = createServer(koa.callback()).listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }))
})
const example = (name) => import(pathToFileURL(join(app, 'build', `${name}.js`)).href)

const embeddingExamples = async (token) => {
  const { acceptTokensApp } = await example('accept-tokens')
  const accept = await acceptTokensApp({ secretsFile: join(data, 'secrets.json') }, `sqlite:${join(data, 'consumer-auth.db')}`)
  const accepting = await listen(accept.app)
  try {
    const me = await fetch(`${accepting.url}/me?token=${token}`)
    const body = await me.json()
    check(me.status === 200 && body.organisation === 'ps_dev', `accept-tokens answered ${me.status} ${JSON.stringify(body)}`)
    const none = await fetch(`${accepting.url}/me`)
    check(none.status === 401, `accept-tokens without a token answered ${none.status}`)
  } finally {
    await accepting.close()
    await accept.close()
  }
  log("accept-tokens accepts the served issuer's token (its secrets file, revocation from its database) and refuses none")

  const { embedIssuer } = await example('embed-issuer')
  const { app: host, auth } = await embedIssuer()
  const embedded = await listen(host)
  try {
    const r = await post(embedded.url, `/accounts/crmapi/rest/v2${TOKEN_PATH}`, EXAMPLE.body)
    check(r.status === 200 && r.headers.get('x-served-by') === 'accounts', `embed-issuer answered ${r.status} ${await r.text()}`)
    const other = await fetch(`${embedded.url}/accounts/statement`)
    check((await other.json()).host === 'accounts', 'embed-issuer did not leave the host its own routes')
  } finally {
    await embedded.close()
    await auth.close()
  }
  log("embed-issuer issues the documented example's token under the host's prefix and leaves the rest to the host")

  const { checkRequest } = await example('use-core')
  const verdict = checkRequest(JSON.parse(EXAMPLE.body), KEY)
  check(verdict.mode === 'AuthenticationCode', `use-core answered ${JSON.stringify(verdict)}`)
  log('use-core names the documented request an authentication code')
}

/** What an entry loads, as files and bytes, in a fresh process of the scratch project (test/package's recorder). */
const loads = (specifier) => {
  const out = run(process.execPath, ['--import', pathToFileURL(join(root, 'test', 'package', 'record-loads.mjs')).href, '--input-type=module', '-e', `await import(${JSON.stringify(specifier)}); await globalThis.reportLoadedModules()`], { cwd: app })
  const files = [...new Set(JSON.parse(out).filter((u) => u.startsWith('file:') || u.startsWith('/')).map((u) => (u.startsWith('file:') ? fileURLToPath(u) : u)))]
  return { files: files.length, bytes: files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0) }
}

let server
try {
  const tarball = pack()
  install(tarball)
  typecheck()
  server = await serve()
  const token = await documentedExample(server.url)
  await provision(server.url)
  await embeddingExamples(token)
  const verify = loads('consumer-auth/verify')
  const full = loads('consumer-auth')
  log(`loaded at import: consumer-auth/verify ${verify.files} files (${kib(verify.bytes)}), consumer-auth ${full.files} files (${kib(full.bytes)})`)
  log(`passed in ${((Date.now() - started) / 1000).toFixed(0)} s`)
} catch (e) {
  console.error(`check-package: FAILED: ${e instanceof CheckFailed ? e.message : e?.stack ?? e}`)
  process.exitCode = 1
} finally {
  await server?.stop()
  if (keep) log(`scratch directory kept: ${work}`)
  else rmSync(work, { recursive: true, force: true })
}
// Whatever an example left open (keep-alive sockets of fetch), the check is over.
process.exit()
