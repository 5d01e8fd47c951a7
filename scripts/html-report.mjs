// html-report.mjs: renders a Cucumber Messages NDJSON report (from `tf run --format
// message:FILE`) as HTML with the official @cucumber/html-formatter.
// usage: HTML_FORMATTER_DIR=node_modules/@cucumber/html-formatter node scripts/html-report.mjs report.ndjson > report.html
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'

const dir = process.env.HTML_FORMATTER_DIR || 'node_modules/@cucumber/html-formatter'
const { CucumberHtmlStream } = await import(pathToFileURL(path.resolve(dir, 'dist/src/index.js')).href)
const input = process.argv[2] ? fs.createReadStream(process.argv[2]) : process.stdin
const html = new CucumberHtmlStream()
html.pipe(process.stdout)
for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
  if (line.trim()) html.write(JSON.parse(line))
}
html.end()
