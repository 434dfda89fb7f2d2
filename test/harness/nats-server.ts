/** Tests run against the same real nats-server wrapper the embedded default uses. */
export { NatsServer, freePort, type NatsServerOptions } from "../../shared/runtime/embedded.js";
