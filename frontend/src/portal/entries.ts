// Capabilities' portal modules register themselves here (see registry.ts). Add one import line per
// capability: `import '../capabilities/<name>/portal';`.
import '../capabilities/hardship/portal';
import '../capabilities/mutual_aid/portal';
import '../capabilities/service_network/portal';
import '../capabilities/warmth/portal';
