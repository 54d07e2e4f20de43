/**
 * @module config-doc
 * The table of settings in docs/configuration.md, rendered from `settings` in config.ts. test/ops/config.test.ts
 * checks that the file holds exactly this table (UPDATE_DOCS=1 rewrites it), so the docs cannot drift from the code.
 */
import { settings } from './config.js'

export const TABLE_START = '<!-- settings:start (generated from composition/config.ts; do not edit by hand) -->'
export const TABLE_END = '<!-- settings:end -->'

/** What text a codec accepts, from its name (the codecs of config.ts are named after their rule). */
const accepts = (codecName: string): string => {
  const range = /^Integer\[(\d+),(\d+)\]$/.exec(codecName)
  if (range) return `whole number ${range[1]}–${range[2]}`
  const auto = /^AutoOrInteger\[(\d+),(\d+)\]$/.exec(codecName)
  if (auto) return `\`auto\` or a whole number ${auto[1]}–${auto[2]}`
  switch (codecName) {
    case 'Boolean': return '`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)'
    case 'Release': return '`R<major>.<minor>.<patch>`'
    case 'DatabaseUrl': return '`sqlite:PATH` or `postgres://…`'
    case 'BasePath': return 'empty, or `/a/b` (no trailing slash)'
    case 'Text': return 'non-empty text'
    case 'OriginList': return 'comma-separated origins (`https://host[:port]`)'
    default: return codecName.split('|').map((v) => `\`${v}\``).join(', ')
  }
}

const cell = (s: string): string => s.replace(/\|/g, '\\|')

export const settingsTable = (): string => {
  const rows = Object.values(settings).map((s) => {
    const flag = s.codec.name === 'Boolean' ? `\`--${s.flag}\`, \`--no-${s.flag}\`` : `\`--${s.flag}\``
    const dflt = s.default === undefined ? '(none)' : s.default === '' ? '""' : `\`${s.default}\``
    return `| \`${s.env}\` | ${flag} | ${dflt} | ${cell(accepts(s.codec.name))} | ${cell(s.help)} |`
  })
  return ['| environment variable | flag | default | accepts | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}
