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
  const sources = await page.locator("#users-table tbody tr td:nth-child(4)").allInnerTexts();
  expect(sources.length).toBeGreaterThan(0);
  expect(new Set(sources)).toEqual(new Set(["Telegram"]));
  const regions = await page.locator("#users-table tbody tr td:nth-child(5)").allInnerTexts();
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
