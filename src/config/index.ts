export * from "./collector";
export * from "./errors";
export * from "./grafana";
export * from "./load";
export * from "./schema";
export * from "./validate";
export * from "./versions";
