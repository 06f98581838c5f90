import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { isStaff, loadSession, session } from "./stores/session";

declare module "vue-router" {
  interface RouteMeta {
    title: string;
    auth?: boolean;
    staff?: boolean;
    guest?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: "/", name: "menu", component: () => import("./views/MenuView.vue"), meta: { title: "Today's menu" } },
  { path: "/signin", name: "signin", component: () => import("./views/SignInView.vue"), meta: { title: "Sign in", guest: true } },
  { path: "/signup", name: "signup", component: () => import("./views/SignUpView.vue"), meta: { title: "Sign up", guest: true } },
  { path: "/checkout/:id", name: "checkout", component: () => import("./views/CheckoutView.vue"), meta: { title: "Checkout", auth: true } },
  { path: "/orders", name: "orders", component: () => import("./views/MyOrdersView.vue"), meta: { title: "My orders", auth: true } },
  { path: "/orders/:id", name: "order", component: () => import("./views/OrderView.vue"), meta: { title: "Order", auth: true } },
  { path: "/notifications", name: "notifications", component: () => import("./views/NotificationsView.vue"), meta: { title: "Notifications", auth: true } },
  { path: "/reports", name: "reports", component: () => import("./views/ReportsView.vue"), meta: { title: "Reports", auth: true, staff: true } },
  { path: "/dashboard", name: "dashboard", component: () => import("./views/DashboardView.vue"), meta: { title: "Dashboard", auth: true, staff: true } },
  { path: "/staff/dishes", name: "staff-dishes", component: () => import("./views/StaffDishesView.vue"), meta: { title: "Dishes", auth: true, staff: true } },
  { path: "/staff/dishes/new", name: "staff-dish-new", component: () => import("./views/StaffDishEditView.vue"), meta: { title: "Add a dish", auth: true, staff: true } },
  { path: "/staff/dishes/:id", name: "staff-dish", component: () => import("./views/StaffDishEditView.vue"), meta: { title: "Edit a dish", auth: true, staff: true } },
  { path: "/:rest(.*)*", name: "not-found", component: () => import("./views/NotFoundView.vue"), meta: { title: "Page not found" } },
];

export const router = createRouter({ history: createWebHistory(), routes, scrollBehavior: () => ({ top: 0 }) });

router.beforeEach(async (to) => {
  await loadSession().catch(() => undefined); // unreachable: the banner says so; pages retry
  if (to.meta.auth && !session.user) return { name: "signin", query: { next: to.fullPath } };
  if (to.meta.staff && !isStaff.value) return { name: "not-found", params: { rest: to.path.slice(1).split("/") }, query: { forbidden: "1" } };
  if (to.meta.guest && session.user) return { name: "menu" };
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title} · Brigade`;
});
