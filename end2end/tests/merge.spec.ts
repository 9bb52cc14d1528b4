import { test, expect, Page } from "@playwright/test";
import { ADMIN_PHONE, ADMIN_PASSWORD, signIn, waitForHydration } from "./helpers";

test.beforeEach(async ({ page }) => {
  await signIn(page, ADMIN_PHONE, ADMIN_PASSWORD);
});

/** Every event on a user's timeline, walking the "Older" pages. */
async function timelineCount(page: Page, userId: string): Promise<number> {
  await page.goto(`/admin/users/${userId}`);
  let total = 0;
  for (let i = 0; i < 100; i++) {
    total += await page.locator("#timeline li.event").count();
    const older = page.locator("#timeline-older");
    if ((await older.count()) === 0) break;
    const href = await older.getAttribute("href");
    await page.goto(href!);
  }
  return total;
}

test("find a duplicate pair, merge it, see one user with both timelines", async ({ page }, testInfo) => {
  // Each run (hydrated, then without JavaScript) takes the first pair still listed: the
  // previous run's merged record is gone, so its pair is no longer a group.
  await page.goto("/admin/users/duplicates?reason=name");
  await expect(page.locator("#namesakes-note")).toBeVisible();
  // The first group that offers a merge; its rows carry each member's event count.
  const group = page
    .locator("#duplicate-groups section.merge-group")
    .filter({ has: page.locator("a.merge-pair") })
    .first();
  const link = group.locator("a.merge-pair").first();
  await expect(link).toBeVisible();
  const survivor = (await link.getAttribute("data-survivor"))!;
  const merged = (await link.getAttribute("data-merged"))!;
  const eventsOf = async (id: string) =>
    Number(await group.locator(`tr[data-user-id="${id}"]`).getAttribute("data-events"));
  const survivorEvents = await eventsOf(survivor);
  const mergedEvents = await eventsOf(merged);
  const expected = survivorEvents + mergedEvents;
  expect(await timelineCount(page, survivor)).toBe(survivorEvents);

  await page.goto(`/admin/users/duplicates?reason=name`);
  await page.locator(`#duplicate-groups a.merge-pair[data-merged="${merged}"]`).first().click();
  await expect(page).toHaveURL(new RegExp(`/admin/users/${survivor}/merge\\?other=${merged}`));
  await expect(page.locator("#merge-sides")).toBeVisible();
  await waitForHydration(page, testInfo);
  expect(Number(await page.locator("#merge-sides td.survivor-events").getAttribute("data-events"))).toBe(
    survivorEvents,
  );
  // Conflicts are resolved with the first option: the survivor's value.
  for (const id of ["#keep-phone", "#keep-telegram"]) {
    const choice = page.locator(`${id} input[type=radio]`).first();
    if ((await choice.count()) > 0) await choice.check();
  }
  await page.locator("#merge-submit").click();
  await expect(page).toHaveURL(new RegExp(`/admin/users/${survivor}$`));
  await expect(page.locator("#user-profile")).toBeVisible();
  await expect(page.locator("#staff-actions")).toContainText("ADMIN_MERGE");

  expect(await timelineCount(page, survivor)).toBe(expected);
  const gone = await page.goto(`/admin/users/${merged}`);
  expect(gone?.status()).toBe(404);
});

test("the duplicates page refuses a tampered cursor and an unknown reason", async ({ page }) => {
  let res = await page.goto("/admin/users/duplicates?reason=phone&after=tampered.cursor");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("after");
  res = await page.goto("/admin/users/duplicates?reason=shoe");
  expect(res?.status()).toBe(400);
  await expect(page.locator("#error-message")).toContainText("reason");
});
