// official.js: times the official @cucumber/gherkin parser on every .feature file of a
// directory (files read first, parse only), for bench_gherkin to compare with tf.
// usage: node official.js DIR   -> prints {"bytes":N,"seconds":S,"documents":D}
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
console.log(JSON.stringify({ bytes, seconds, documents: docs }))
