// The `scale` scenario of `npm run bench`: issuance (code) and failure (fail) on a database of a realistic deployment
// (scripts/bench/prefill.mjs: 1,000,000 access tokens, 100,000 keys, 10,000,000 audit rows at --scale 1) against the
// same service on a database holding only the documented example, in the same rounds, on SQLite and on PostgreSQL.
// S is the service on the small database, L on the large one; each round runs S then L under the same load, and the
// median of L/S per round is the figure (1.0: size costs nothing; the target is within 10 %).
import { cell, fmt, load, median } from './harness.mjs'
import { FULL_SIZE, sizesAt } from './prefill.mjs'
import { ROUTE } from '../support.mjs'

/**
 * `sqliteDatabase(name)` / `postgresDatabase(name)`: a freshly imported database, answering its URL and `prefill(sizes)`;
 * `startService(url)`: a started service on it; `measure(server, scenario, seconds)` as the bench's.
 */
export const runScaleScenarios = async ({ scale, scenarios, measure, rounds, duration, warmup, connections, sqliteDatabase, postgresDatabase, startService }) => {
  const sizes = sizesAt(scale)
  const results = []
  for (const [engine, open] of [['SQLite', sqliteDatabase], ['PostgreSQL', postgresDatabase]]) {
    const small = await open('small')
    const large = await open('large')
    const seconds = await large.prefill(sizes)
    console.log(
      `\n# scale (${engine}): L holds ${sizes.accessTokens} access tokens, ${sizes.keys} keys, ${sizes.auditRows} audit rows` +
        ` (--scale ${scale} of ${FULL_SIZE.accessTokens}/${FULL_SIZE.keys}/${FULL_SIZE.auditRows}), filled in ${fmt(seconds, 1)} s; S only the documented example`,
    )
    const S = await startService(small.url)
    const L = await startService(large.url)
    for (const [key, what] of [['code', 'AuthenticationCode with key'], ['fail', 'Failure: unknown key']]) {
      const scenario = { ...scenarios[key], path: ROUTE }
      console.log(`\n## scale: ${what} (${engine}), L/S  (${connections} connections, ${rounds} rounds of ${duration} s, warm-up ${warmup} s each)`)
      await load(S.port, scenario, warmup, connections)
      await load(L.port, scenario, warmup, connections)
      console.log(`round | S small  req/s  p50  p99 cpu/req | L large  req/s  p50  p99 cpu/req | L/S   | L non-${scenario.expect}`)
      const ratios = []
      let last
      for (let i = 1; i <= rounds; i++) {
        const s = await measure(S, scenario, duration)
        const l = await measure(L, scenario, duration)
        ratios.push(l.rps / s.rps)
        last = { s, l }
        console.log(`${String(i).padStart(5)} | ${cell(s).padStart(29)} | ${cell(l).padStart(29)} | ${fmt(l.rps / s.rps, 3)} | ${l.unexpected + s.unexpected}`)
        if (l.unexpected + s.unexpected > 0) console.log(`      statuses: S ${JSON.stringify(s.statusCounts)} L ${JSON.stringify(l.statusCounts)}`)
      }
      const m = median(ratios)
      console.log(`median L/S: ${fmt(m, 3)}   (p99 last round: S ${fmt(last.s.p99)} ms, L ${fmt(last.l.p99)} ms)`)
      results.push({ name: `scale ${key} (${engine}) at --scale ${scale}`, label: 'L/S', median: m, ratios, p99: last.l.p99, summary: `   (S p99 ${fmt(last.s.p99)} ms)` })
    }
  }
  return results
}
