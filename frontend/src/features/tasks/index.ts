export { TaskDetailPage } from "./routes/task-detail";
export { TaskListPage } from "./routes/task-list";
