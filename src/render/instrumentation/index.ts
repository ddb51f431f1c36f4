export * from "./env";
export * from "./files";
export * from "./k8s";
export * from "./plan";
export * from "./scripts";
