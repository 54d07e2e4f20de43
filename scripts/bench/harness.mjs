// What every scenario of `npm run bench` shares: server children started and stopped, autocannon load on one
// request, the server's CPU per request from /proc, and the median of a round's ratios.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

const CLK_TCK = 100
const stopping = new WeakSet()

/** Starts a server child and resolves once it answers on its port. */
export const startChild = async (args, env, port) => {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)))
  // A server that dies during a run is reported with its exit and the end of its stderr, not as a missing /proc file.
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) console.error(`\n${args.join(' ')} exited during the run (code ${code}, signal ${signal}): ${err}`)
  })
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited: ${err}`)
    try {
      // Any answer but 503: the service binds its port first and answers 503 until it is ready; the Koa apps of the
      // bench have no such route and answer 404.
      if ((await fetch(`http://127.0.0.1:${port}/health/live`)).status !== 503) return child
      await new Promise((r) => setTimeout(r, 50))
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  stopping.add(child)
  child.kill('SIGTERM')
  throw new Error(`server did not start: ${err}`)
}

export const stopChild = (child) => new Promise((resolve) => {
  stopping.add(child)
  if (child.exitCode !== null) return resolve()
  child.once('exit', resolve)
  child.kill('SIGTERM')
})

const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/**
 * `scenario`: { method (POST by default), path, headers, body, expect: '2xx' | '4xx', timeout (seconds a request may
 * take before autocannon gives up on it and sends another; 10 by default) }.
 */
export const load = (port, scenario, seconds, connections) =>
  new Promise((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        timeout: scenario.timeout ?? 10,
        requests: [{ method: scenario.method ?? 'POST', path: scenario.path, headers: scenario.headers, body: scenario.body }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
  })

export const measure = async (server, scenario, seconds, connections) => {
  const before = cpuTicks(server.child.pid)
  const r = await load(server.port, scenario, seconds, connections)
  const ticks = cpuTicks(server.child.pid) - before
  const total = r.requests.total
  const unexpected = total - (r[`${scenario.expect}`] ?? 0)
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUs: total ? (ticks / CLK_TCK / total) * 1e6 : NaN,
    total,
    statusCounts: { '2xx': r['2xx'], '4xx': r['4xx'], '5xx': r['5xx'], errors: r.errors, timeouts: r.timeouts },
    unexpected,
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-')
export const cell = (r) => `${fmt(r.rps).padStart(8)} ${fmt(r.p50).padStart(4)} ${fmt(r.p99).padStart(4)} ${fmt(r.cpuUs).padStart(5)}us`
