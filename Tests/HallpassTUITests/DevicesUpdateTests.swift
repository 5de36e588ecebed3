import Foundation
import HallpassCore
@testable import HallpassTUI
import Testing

/// "Your devices" as pure transitions (issue 17): Tab opens it from code entry, Enter asks with
/// Keep focused, only Revoke sends the revocation, and the list comes back with a notice.
@Suite struct DevicesUpdateTests {
    @Test func revokingTakesAConfirmationThatStartsOnKeep() {
        var state = Fixture.loggedIn()
        let session = state.session!.session
        #expect(state.update(.key(.tab)) == [.listDevices(session: session)])
        #expect(state.busy == .loadingDevices)
        #expect(state.update(.devicesListed(Fixture.devices)).isEmpty)
        #expect(state.screen == .devices && state.busy == nil)
        _ = state.update(.key(.down))
        #expect(state.deviceList.focus == 1)
        #expect(state.update(.key(.enter)).isEmpty && state.deviceList.confirming && !state.deviceList.confirmFocusRevoke)
        #expect(state.update(.key(.enter)).isEmpty && !state.deviceList.confirming)      // Enter on Keep: nothing revoked
        _ = state.update(.key(.enter))
        _ = state.update(.key(.right))
        #expect(state.update(.key(.enter)) == [.revokeDevice(id: "fam_2", session: session)])
        #expect(state.busy == .revoking)
        #expect(state.update(.deviceRevoked(id: "fam_2")) == [.listDevices(session: session)])
        #expect(state.deviceList.revoked == "Garage \u{1B}[31mPi")
        _ = state.update(.devicesListed([Fixture.devices[0]]))
        #expect(state.deviceList.focus == 0 && state.deviceList.devices.count == 1)
        _ = state.update(.key(.escape))
        #expect(state.screen == .codeEntry)
    }

    @Test func aFailedListIsShownLikeAnyRefusal() {
        var state = Fixture.loggedIn()
        _ = state.update(.key(.tab))
        _ = state.update(.devicesFailed(.refused("the server is busy")))
        #expect(state.screen == .result && state.outcome == .refused("the server is busy"))
    }
}
