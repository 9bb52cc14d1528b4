import { expect, Page, TestInfo } from "@playwright/test";

export const ADMIN_PHONE = process.env.E2E_ADMIN_PHONE ?? "+998200000001";
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? "e2e-admin-password";
export const USER_PHONE = process.env.E2E_USER_PHONE ?? "+998200000002";
export const USER_PASSWORD = process.env.E2E_USER_PASSWORD ?? "e2e-user-password";

export function hydrated(testInfo: TestInfo): boolean {
  return testInfo.project.name === "js";
}

/** Signs in through the real form and waits for the landing page. */
export async function signIn(page: Page, phone: string, password: string) {
  await page.goto("/login");
  await page.locator("#login-form input[name=phone]").fill(phone);
  await page.locator("#login-form input[name=password]").fill(password);
  await page.locator("#login-form button[type=submit]").click();
  await expect(page).not.toHaveURL(/\/login$/);
}

/** When JavaScript runs, wait until the wasm has taken over the page. */
export async function waitForHydration(page: Page, testInfo: TestInfo) {
  if (hydrated(testInfo)) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  }
}
