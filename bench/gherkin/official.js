// official.js: times the official @cucumber/gherkin parser on every .feature file of a
// directory (files read first, parse only), then, untimed, compiles every document's
// pickles and digests them the way bench_gherkin digests tf's, so the bench can check
// both parsers gave the same answer.
// usage: node official.js DIR
//   -> {"bytes":N,"seconds":S,"documents":D,"pickles":P,"steps":T,"digest":"sha256 hex"}
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const gherkin = require('@cucumber/gherkin')
const messages = require('@cucumber/messages')

const dir = process.argv[2]
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.feature')).sort()
const sources = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
const bytes = files.reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
const newId = messages.IdGenerator.incrementing()
const parser = new gherkin.Parser(new gherkin.AstBuilder(newId), new gherkin.GherkinClassicTokenMatcher())
// one warm-up pass so the JIT has compiled the parser, as a long run would
for (const s of sources.slice(0, 20)) parser.parse(s)
const t0 = process.hrtime.bigint()
let docs = 0
for (const s of sources) {
  parser.parse(s)
  docs++
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9

// The answer: every pickle's name, tags, steps (type, text, table cells, doc string), in
// file order. bench_gherkin.c builds the same lines from tf's pickles.
const hash = crypto.createHash('sha256')
let pickles = 0
let steps = 0
sources.forEach((s, i) => {
  const doc = parser.parse(s)
  for (const p of gherkin.compile(doc, files[i], newId)) {
    pickles++
    hash.update(`pickle ${p.name}\n`)
    for (const t of p.tags) hash.update(`tag ${t.name}\n`)
    for (const st of p.steps) {
      steps++
      hash.update(`step ${st.type || 'Unknown'} ${st.text}\n`)
      const arg = st.argument || {}
      if (arg.dataTable) for (const r of arg.dataTable.rows) hash.update(`row ${r.cells.map((c) => c.value).join('\t')}\n`)
      if (arg.docString) hash.update(`doc ${arg.docString.mediaType || ''}\n${arg.docString.content}\n`)
    }
  }
})
console.log(JSON.stringify({ bytes, seconds, documents: docs, pickles, steps, digest: hash.digest('hex') }))
