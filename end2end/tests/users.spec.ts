import { test, expect } from "@playwright/test";
import { ADMIN_PHONE, ADMIN_PASSWORD, signIn } from "./helpers";

test.beforeEach(async ({ page }) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
});

test("the users page lists demo users with source × region counts", async ({ page }) => {
  await page.goto("/admin/users");
  const rows = page.locator("#users-table tbody tr");
  await expect(rows).toHaveCount(50);
  const total = Number(await page.locator("#pivot-grand-total").innerText());
  expect(total).toBeGreaterThan(100);
  await expect(page.locator("#matching-count")).toHaveText(`${total} matching users`);
});

test("filtering by source and region narrows the list to the pivot's cell", async ({ page }) => {
  await page.goto("/admin/users");
  const cell = page.locator('#source-region-pivot td[data-source="TELEGRAM"][data-region="UZ"]');
  const expected = Number(await cell.innerText());
  expect(expected).toBeGreaterThan(0);
  await page.locator("#user-filters select[name=source]").selectOption("TELEGRAM");
  await page.locator("#user-filters select[name=region]").selectOption("UZ");
  await page.locator("#user-filters button[type=submit]").click();
  await expect(page).toHaveURL(/source=TELEGRAM/);
  await expect(page).toHaveURL(/region=UZ/);
  await expect(page.locator("#matching-count")).toHaveText(`${expected} matching user${expected === 1 ? "" : "s"}`);
  const sources = await page.locator("#users-table tbody tr td:nth-child(5)").allInnerTexts();
  expect(sources.length).toBeGreaterThan(0);
  expect(new Set(sources)).toEqual(new Set(["Telegram"]));
  const regions = await page.locator("#users-table tbody tr td:nth-child(6)").allInnerTexts();
  expect(new Set(regions)).toEqual(new Set(["UZ"]));
});

test("paging forward and back returns to the same rows", async ({ page }) => {
  await page.goto("/admin/users?per_page=10");
  const first = await page.locator("#users-table tbody tr").first().getAttribute("data-user-id");
  await page.locator("#next-page").click();
  await expect(page).toHaveURL(/after=/);
  const second = await page.locator("#users-table tbody tr").first().getAttribute("data-user-id");
  expect(second).not.toEqual(first);
  await page.locator("#prev-page").click();
  await expect(page).toHaveURL(/before=/);
  await expect(page.locator("#users-table tbody tr").first()).toHaveAttribute("data-user-id", first!);
});

test("a bad filter value gets a 400 that names the parameter", async ({ page }) => {
  const res = await page.goto("/admin/users?source=FAX");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("source");
});

test("a user opened from a filtered list leads back to the same list", async ({ page }) => {
  await page.goto("/admin/users?source=WEB&region=UZ&per_page=10");
  const first = page.locator("#users-table tbody tr").first();
  const id = await first.getAttribute("data-user-id");
  await first.locator("td.name a").click();
  await expect(page).toHaveURL(new RegExp(`/admin/users/${id}`));
  await expect(page.locator("#user-profile")).toBeVisible();
  await page.locator("#back-to-list").click();
  await expect(page).toHaveURL(/source=WEB/);
  await expect(page).toHaveURL(/region=UZ/);
  await expect(page).toHaveURL(/per_page=10/);
  await expect(page.locator("#users-table tbody tr").first()).toHaveAttribute("data-user-id", id!);
});

test("the timeline pages back in time and filters by type and platform", async ({ page }) => {
  const id = process.env.E2E_BUSY_USER_ID;
  expect(id, "scripts/test exports E2E_BUSY_USER_ID").toBeTruthy();
  const ids = () =>
    page.locator("#timeline li.event").evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id")));
  await page.goto(`/admin/users/${id}`);
  const newest = await ids();
  expect(newest.length).toBe(50);
  await page.locator("#timeline-older").click();
  await expect(page).toHaveURL(/before=/);
  const older = await ids();
  expect(older.length).toBeGreaterThan(0);
  expect(older.filter((e) => newest.includes(e))).toEqual([]);
  // And back up to the newest page, where nothing newer is offered.
  await page.locator("#timeline-newer").click();
  await expect(page).toHaveURL(/after=/);
  await expect.poll(ids).toEqual(newest);
  await expect(page.locator("#timeline-newer")).toHaveCount(0);

  await page.goto(`/admin/users/${id}`);
  await page.locator("#timeline-filters input[name=type]").fill("PURCHASE");
  await page.locator("#timeline-filters button[type=submit]").click();
  await expect(page).toHaveURL(/type=PURCHASE/);
  const types = await page.locator("#timeline li.event").evaluateAll((els) => els.map((e) => e.getAttribute("data-event-type")));
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types)).toEqual(new Set(["PURCHASE"]));

  await page.goto(`/admin/users/${id}`);
  await page.locator("#timeline-filters select[name=platform]").selectOption("MOBILE_APP");
  await page.locator("#timeline-filters button[type=submit]").click();
  await expect(page).toHaveURL(/platform=MOBILE_APP/);
  const badges = await page.locator("#timeline li.event .badge").allInnerTexts();
  expect(badges.length).toBeGreaterThan(0);
  expect(new Set(badges)).toEqual(new Set(["Mobile app"]));
});

test("the CSV export holds exactly the filtered users", async ({ page }) => {
  await page.goto("/admin/users?source=MOBILE_APP&region=UZ");
  const countText = await page.locator("#matching-count").innerText();
  const expected = Number(countText.replace(/[^0-9]/g, ""));
  expect(expected).toBeGreaterThan(0);
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export-csv").click()]);
  const path = await download.path();
  const text = require("fs").readFileSync(path!, "utf8") as string;
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const lines = text.slice(1).split(/\r?\n/).filter((l) => l.length > 0);
  // Every cell is quoted, so ids and phones stay text in a spreadsheet.
  expect(lines[0].startsWith('"id","firstName","lastName","phone"')).toBe(true);
  expect(lines.length - 1).toBe(expected);
  expect(lines.slice(1).every((l) => l.includes('"MOBILE_APP","UZ"'))).toBe(true);
});
