/**
 * Watch mode: a small docs site. Each page is rendered from its own Markdown
 * file, declared as the step's input, so editing one page reruns that page
 * and what is built from it (the index, the link check), and nothing else.
 * The pages render in parallel into `docs-site/_site/`, each declaring the
 * one file it writes, so `weft graph --check` can tell they do not collide.
 *
 *   npx weft watch examples/docs-site.ts
 *   (then edit examples/docs-site/guide.md, and save)
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { workflow, type StepContext } from "weft"

interface Page {
  readonly name: string
  readonly title: string
  readonly html: string
  readonly links: ReadonlyArray<string>
}

/** Where the site is built, in the workflow's folder. */
const site = "docs-site/_site"

const publish = async (file: string, html: string) => {
  await mkdir(new URL(`./${site}/`, import.meta.url), { recursive: true })
  await writeFile(new URL(`./${site}/${file}`, import.meta.url), html + "\n")
}

/** Reads `docs-site/<name>.md`, renders it and writes `_site/<name>.html`: headings, code and links are all this site uses. */
const render = (name: string) => async (_: unknown, ctx: StepContext): Promise<Page> => {
  const markdown = await readFile(new URL(`./docs-site/${name}.md`, import.meta.url), "utf8")
  const title = /^# (.*)$/m.exec(markdown)?.[1] ?? name
  const links = [...markdown.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!)
  const html = markdown
    .replace(/^# (.*)$/gm, "<h1>$1</h1>")
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, `<a href="$2">$1</a>`)
    .trim()
  await publish(`${name}.html`, html)
  ctx.log(`rendered ${name}.md: ${title}, ${links.length} link${links.length === 1 ? "" : "s"}`)
  return { name, title, html, links }
}

/**
 * A page's step: its Markdown file is its input, so the cache and watch mode
 * know what it reads; its HTML file its output, stored and restored with it.
 */
const page = (name: string) => ({ cache: { inputs: [`docs-site/${name}.md`], outputs: [`${site}/${name}.html`] } })

export default workflow("docs-site", { concurrency: 4 })
  .step("intro", page("intro"), render("intro"))
  .step("guide", page("guide"), render("guide"))
  .step("api", page("api"), render("api"))
  .step("index", { needs: ["intro", "guide", "api"], permissions: { write: [`${site}/index.html`] } }, async ({ intro, guide, api }) => {
    const list = [intro, guide, api].map((p) => `<li><a href="${p.name}.html">${p.title}</a></li>`).join("\n")
    await publish("index.html", `<ul>\n${list}\n</ul>`)
    return list
  })
  .step("links", { needs: ["intro", "guide", "api"] }, ({ intro, guide, api }, ctx) => {
    const pages = new Set([intro, guide, api].map((p) => `${p.name}.html`))
    const broken = [intro, guide, api].flatMap((p) => p.links.filter((link) => !pages.has(link)).map((link) => `${p.name}.md → ${link}`))
    if (broken.length > 0) throw new Error(`broken links: ${broken.join(", ")}; fix the link or add the page`)
    ctx.log(`all ${pages.size} pages' links resolve`)
    return pages.size
  })
