export { ChannelsPage } from "./routes/channels";
