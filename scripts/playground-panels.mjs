// How to drive each playground panel in a browser (playwright page): open it, start its run, wait for the result in
// `window.playground`, and return what it measured. Shared by the Chromium test (test/runtimes/playground.test.ts)
// and the screenshot script (scripts/playground-screenshots.mjs). `short` runs bounded, quick versions.

/** Waits until `predicate(window.playground)` is true (polled), for at most `timeout` ms. */
const until = (page, predicate, timeout) => page.waitForFunction(`(${predicate})(window.playground)`, undefined, { timeout, polling: 200 });
const read = (page, pick) => page.evaluate(`(${pick})(window.playground)`);

export const PANELS = {
  async train(page, url, { short = true } = {}) {
    await page.goto(`${url}?steps=${short ? 100 : 600}&sampleEvery=${short ? 50 : 250}${short ? '&hidden=64' : ''}#train`);
    await page.click('#train-start');
    await until(page, (p) => p.train.finished || p.train.error !== '', short ? 120_000 : 600_000);
    return read(page, (p) => p.train);
  },
  async generate(page, url, { short = true } = {}) {
    await page.goto(`${url}?steps=${short ? 30 : 500}&length=${short ? 240 : 400}${short ? '&hidden=64' : ''}#train`);
    await page.click('#train-start');
    await until(page, (p) => p.train.finished || p.train.error !== '', short ? 120_000 : 600_000);
    await page.click('nav a[data-panel=generate]');
    await page.click('#gen-start');
    await until(page, (p) => p.generate.done || p.generate.error !== '', 60_000);
    return read(page, (p) => p.generate);
  },
  async trees(page, url) {
    await page.goto(`${url}#trees`);
    await until(page, (p) => p.trees.coloured > 0, 30_000);
    return read(page, (p) => p.trees);
  },
  async benchmark(page, url, { short = true } = {}) {
    await page.goto(`${url}?reps=${short ? '1&warmup=0&shrink' : 5}#benchmark`);
    await page.click('#bench-start');
    await until(page, (p) => p.bench.done, short ? 240_000 : 900_000);
    return read(page, (p) => p.bench);
  },
  async gradients(page, url, { short = true } = {}) {
    await page.goto(`${url}?gradSteps=${short ? 40 : 500}#gradients`);
    await page.click('#grad-start');
    await until(page, (p) => p.gradients.done, short ? 120_000 : 600_000);
    return read(page, (p) => ({ ...p.gradients, runs: p.gradients.runs.map((r) => ({ cell: r.cell, clipped: r.clipped, before: r.before, after: r.after, losses: r.losses })) }));
  },
};

/** Chromium's flags for these runs (headless, no sandbox in containers). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
