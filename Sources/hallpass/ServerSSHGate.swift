import HallpassCore
import HallpassServer
import HallpassSSH

/// The SSH front's `SSHConsentGate` is answered by the server's `SSHLoginDesk`: the conformance
/// is declared here, in the executable, so that `HallpassSSH` does not depend on
/// `HallpassServer` (ARCHITECTURE.md §2).
extension SSHLoginDesk: SSHConsentGate {}
