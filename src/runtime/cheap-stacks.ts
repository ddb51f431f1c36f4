/** Side-effect import for the entry point: see ./stack-traces and ./sdk-logs. */
import { quietSdkRegistrations } from "./sdk-logs";
import { installCheapPromiseStacks } from "./stack-traces";

installCheapPromiseStacks();
quietSdkRegistrations();
