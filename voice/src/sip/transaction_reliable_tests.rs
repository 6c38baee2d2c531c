//! Client transactions over a reliable transport (TCP), on a virtual clock: no Timer A/E,
//! Timer B/F still apply, Timer D/K are zero (RFC 3261 §17.1.1.2, §17.1.2.2), and a
//! transport error ends a pending transaction (§17.1.4).

use super::tests_support::{request, response};
use super::*;

const T1: Duration = Duration::from_millis(500);

fn drain(tx: &mut ClientTransaction) -> Vec<TxOutput> {
    std::iter::from_fn(|| tx.poll_output()).collect()
}

/// Fire every due timer up to `until`; the outputs with the (virtual) time they came out.
fn run_until(tx: &mut ClientTransaction, until: Instant) -> Vec<(Instant, TxOutput)> {
    let mut got = Vec::new();
    while let Some(at) = tx.poll_timeout() {
        if at > until {
            break;
        }
        tx.handle_timeout(at);
        got.extend(drain(tx).into_iter().map(|o| (at, o)));
    }
    got
}

#[test]
fn invite_is_sent_once_and_timer_b_still_times_out_at_64_t1() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::over(t0, request(Method::Invite, "z9hG4bKa"), T1, true);
    assert!(tx.is_reliable());
    assert!(matches!(drain(&mut tx).as_slice(), [TxOutput::Transmit(_)]));
    assert_eq!(tx.poll_timeout(), Some(t0 + T1 * 64), "only Timer B runs");
    let got = run_until(&mut tx, t0 + Duration::from_secs(60));
    assert_eq!(got, vec![(t0 + T1 * 64, TxOutput::TimedOut)]);
    assert_eq!(tx.retransmits(), 0);
    assert!(tx.is_terminated());
}

#[test]
fn non_invite_is_sent_once_and_timer_f_still_times_out_at_64_t1() {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::over(t0, request(Method::Bye, "z9hG4bKb"), T1, true);
    drain(&mut tx);
    // A provisional must not start retransmissions either (no T2 cadence over TCP).
    let req = tx.request().clone();
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 100)));
    drain(&mut tx);
    assert_eq!(tx.poll_timeout(), Some(t0 + T1 * 64));
    let got = run_until(&mut tx, t0 + Duration::from_secs(60));
    assert_eq!(got, vec![(t0 + T1 * 64, TxOutput::TimedOut)]);
    assert_eq!(tx.retransmits(), 0);
}

#[test]
fn invite_non_2xx_final_is_acked_and_terminates_at_once_timer_d_zero() {
    let t0 = Instant::now();
    let req = request(Method::Invite, "z9hG4bKc");
    let mut tx = ClientTransaction::over(t0, req.clone(), T1, true);
    drain(&mut tx);
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 486)));
    let out = drain(&mut tx);
    assert!(
        matches!(out.as_slice(), [TxOutput::Transmit(ack), TxOutput::Response(r)]
            if ack.starts_with(b"ACK ") && r.status_code.code() == 486),
        "{out:?}"
    );
    assert!(tx.is_terminated(), "Timer D is zero over TCP");
    assert_eq!(tx.poll_timeout(), None);
    assert_eq!(tx.final_status(), 486);
}

#[test]
fn non_invite_final_terminates_at_once_timer_k_zero() {
    let t0 = Instant::now();
    let req = request(Method::Bye, "z9hG4bKd");
    let mut tx = ClientTransaction::over(t0, req.clone(), T1, true);
    drain(&mut tx);
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 200)));
    assert!(matches!(drain(&mut tx).as_slice(), [TxOutput::Response(_)]));
    assert!(tx.is_terminated(), "Timer K is zero over TCP");
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn udp_keeps_its_timer_d_and_k() {
    let t0 = Instant::now();
    let req = request(Method::Bye, "z9hG4bKe");
    let mut tx = ClientTransaction::new(t0, req.clone(), T1);
    drain(&mut tx);
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 200)));
    assert_eq!(tx.state(), TxState::Completed);
    assert_eq!(tx.poll_timeout(), Some(t0 + T1 + T4));
}

#[test]
fn a_transport_error_ends_a_pending_transaction_once() {
    let t0 = Instant::now();
    let req = request(Method::Invite, "z9hG4bKf");
    let mut tx = ClientTransaction::over(t0, req.clone(), T1, true);
    drain(&mut tx);
    tx.handle_input(t0 + T1, TxInput::Response(response(&req, 180)));
    drain(&mut tx);
    tx.handle_transport_error();
    assert_eq!(drain(&mut tx), vec![TxOutput::TransportError]);
    assert!(tx.is_terminated());
    assert_eq!(tx.poll_timeout(), None);
    tx.handle_transport_error();
    assert!(drain(&mut tx).is_empty(), "reported once");
    // A finished transaction ignores transport errors.
    let mut done = ClientTransaction::over(t0, req.clone(), T1, true);
    done.handle_input(t0, TxInput::Response(response(&req, 200)));
    drain(&mut done);
    done.handle_transport_error();
    assert!(drain(&mut done).is_empty());
}
