// Screenshot a report page with the system Chromium (docs/report.png comes from this):
//   npx fanout demo && npx tsx scripts/screenshot.ts fanout-demo-report.html docs/report.png
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium.js';

const [html = 'fanout-demo-report.html', png = 'docs/report.png'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`file://${path.resolve(html)}`);
  await page.screenshot({ path: png, fullPage: false });
  console.log(`screenshot of ${html} written to ${png}`);
} finally {
  await browser.close();
}
