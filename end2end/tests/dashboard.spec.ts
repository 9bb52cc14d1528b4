import { test, expect, Page, TestInfo } from "@playwright/test";
import { ADMIN_PHONE, ADMIN_PASSWORD, signIn, waitForHydration } from "./helpers";

// Each chart of the dashboard and the number of series it draws.
const CHARTS: [string, number][] = [
  ["#chart-active", 4],
  ["#chart-signups", 3],
  ["#chart-events", 3],
  ["#chart-top-types", 1],
  ["#chart-split", 3],
];

async function expectCharts(page: Page) {
  for (const [id, series] of CHARTS) {
    const svg = page.locator(`${id} svg.chart-svg`);
    await expect(svg).toBeVisible();
    await expect(svg.locator("g.series")).toHaveCount(series);
    await expect(svg.locator("text.chart-title")).not.toBeEmpty();
    await expect(svg.locator("g.legend-item")).toHaveCount(series);
    await expect(page.locator(`${id} details.chart-data table`)).toHaveCount(1);
  }
}

async function snap(page: Page, testInfo: TestInfo, name: string) {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: "image/png" });
}

test.beforeEach(async ({ page }) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
});

test("the dashboard draws its charts and the period switch changes them", async ({ page }, testInfo) => {
  await page.goto("/admin");
  await waitForHydration(page, testInfo);
  await expectCharts(page);
  // The default period is 30 days: one row of numbers per day.
  await expect(page.locator("#chart-signups-table tbody tr")).toHaveCount(30);
  await expect(page.locator("#chart-events-table tbody tr")).toHaveCount(30);
  await expect(page.locator('#period-switch a[aria-current="page"]')).toHaveText("30 days");
  const total = Number(await page.locator("#total-users").innerText());
  expect(total).toBeGreaterThan(100);
  const events = page.locator("#chart-events svg g.series polyline");
  await expect(events).toHaveCount(3);
  const points30 = await events.first().getAttribute("points");
  await snap(page, testInfo, "dashboard-30-days");

  await page.locator('#period-switch a[data-period="7"]').click();
  await expect(page).toHaveURL(/\/admin\?period=7$/);
  await expect(page.locator("#chart-signups-table tbody tr")).toHaveCount(7);
  await expect(page.locator("#chart-events figcaption")).toContainText("last 7 days");
  await expect(page.locator('#period-switch a[aria-current="page"]')).toHaveText("7 days");
  await expectCharts(page);
  expect(await events.first().getAttribute("points")).not.toEqual(points30);
  await snap(page, testInfo, "dashboard-7-days");

  await page.locator('#period-switch a[data-period="90"]').click();
  await expect(page).toHaveURL(/\/admin\?period=90$/);
  await expect(page.locator("#chart-signups-table tbody tr")).toHaveCount(90);
  await expectCharts(page);
  // The total does not depend on the period.
  await expect(page.locator("#total-users")).toHaveText(String(total));
  await snap(page, testInfo, "dashboard-90-days");
});

test("a chart's numbers are in a table under it", async ({ page }) => {
  await page.goto("/admin?period=7");
  const details = page.locator("#chart-top-types details.chart-data");
  await details.locator("summary").click();
  const rows = details.locator("tbody tr");
  expect(await rows.count()).toBeGreaterThan(0);
  const first = Number(await rows.first().locator("td").innerText());
  const last = Number(await rows.last().locator("td").innerText());
  expect(first).toBeGreaterThanOrEqual(last);
});

test("a bad period gets a 400 that names the parameter", async ({ page }) => {
  const res = await page.goto("/admin?period=14");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("period");
});

test("the events explorer filters, pages and links to the timeline", async ({ page }, testInfo) => {
  await page.goto("/admin/events");
  await waitForHydration(page, testInfo);
  const rows = page.locator("#events-table tbody tr");
  await expect(rows).toHaveCount(50);
  await page.locator("#event-filters select[name=platform]").selectOption("TELEGRAM");
  await page.locator("#event-filters button[type=submit]").click();
  await expect(page).toHaveURL(/platform=TELEGRAM/);
  const platforms = await page.locator("#events-table tbody tr td:nth-child(4)").allInnerTexts();
  expect(platforms.length).toBeGreaterThan(0);
  expect(new Set(platforms)).toEqual(new Set(["Telegram"]));
  const firstId = await rows.first().getAttribute("data-event-id");
  await page.locator("#next-page").click();
  await expect(page).toHaveURL(/before=/);
  await expect(page).toHaveURL(/platform=TELEGRAM/);
  await expect(rows.first()).not.toHaveAttribute("data-event-id", firstId!);
  const eventId = await rows.first().getAttribute("data-event-id");
  await rows.first().locator("a.event-link").click();
  await expect(page).toHaveURL(new RegExp(`/admin/users/[^?]+\\?at=${eventId}#event-${eventId}`));
  // The fragment scrolls the event itself into view, below the profile and sessions.
  await expect(page.locator(`[data-event-id="${eventId}"]`).first()).toBeInViewport();
});

test("a bad explorer filter gets a 400 that names the parameter", async ({ page }) => {
  const res = await page.goto("/admin/events?from=2026-02-30");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("from");
});
