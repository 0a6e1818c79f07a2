//! Everything that speaks Twilio's formats: TwiML, webhook signatures, access tokens, the REST client.

pub mod rest;
pub mod sid;
pub mod signature;
pub mod token;
pub mod twiml;
