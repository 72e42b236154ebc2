//! Small builders for the things most tests start from: a seller (with money, a sender
//! address, an API key, a browser session — each only if asked) and a booking request.

#![allow(dead_code)]

use serde_json::{Value, json};
use waybill::domain::Role;
use waybill::services::wallet::Kind;

use crate::helpers::{TestApp, Visitor, location};

/// `app.seller("a@example.com").funded(500_000).with_address().with_key().build().await`
pub struct SellerBuilder<'a> {
    app: &'a TestApp,
    email: String,
    fen: i64,
    address: bool,
    key: bool,
    signed_in: bool,
}

/// What `SellerBuilder::build` made.
pub struct SellerFixture {
    pub id: String,
    pub email: String,
    pub key: Option<String>,
    pub visitor: Option<Visitor>,
}

impl SellerFixture {
    pub fn key(&self) -> &str {
        self.key.as_deref().expect("built without .with_key()")
    }

    pub fn visitor(&self) -> &Visitor {
        self.visitor.as_ref().expect("built without .signed_in()")
    }
}

impl TestApp {
    pub fn seller(&self, email: &str) -> SellerBuilder<'_> {
        SellerBuilder {
            app: self,
            email: email.to_string(),
            fen: 0,
            address: false,
            key: false,
            signed_in: false,
        }
    }

    /// The seller most API tests start from: `seller(email).funded(fen).with_key()
    /// .with_address()`.
    pub async fn api_seller(&self, email: &str, fen: i64) -> SellerFixture {
        self.seller(email)
            .funded(fen)
            .with_key()
            .with_address()
            .build()
            .await
    }

    /// The seller most page tests start from: signed in, ¥2,000 in the wallet and a default
    /// sender address added through the address book page. (browser session, seller id)
    pub async fn seller_with_address(&self, email: &str) -> (Visitor, String) {
        let s = self
            .seller(email)
            .funded(200_000)
            .signed_in()
            .with_address()
            .build()
            .await;
        (s.visitor.unwrap(), s.id)
    }
}

/// The sender address the fixtures use (a Shenzhen shop, written as sellers write it).
pub fn sender() -> Value {
    json!({"name": "李伟 Li Wei", "company": "深圳灯饰 Shenzhen Lights", "street1": "科技园南路 18号",
           "city": "Shenzhen", "state": "Guangdong", "postal_code": "518057", "country": "CN",
           "phone": "+86 755 8888 0000"})
}

impl SellerBuilder<'_> {
    /// Money in the wallet, in fen.
    pub fn funded(mut self, fen: i64) -> Self {
        self.fen = fen;
        self
    }

    /// A default sender address (through the API when there is a key, else the page).
    pub fn with_address(mut self) -> Self {
        self.address = true;
        self
    }

    pub fn with_key(mut self) -> Self {
        self.key = true;
        self
    }

    /// A browser session (cookie jar) signed in as this seller.
    pub fn signed_in(mut self) -> Self {
        self.signed_in = true;
        self
    }

    pub async fn build(self) -> SellerFixture {
        let app = self.app;
        app.load_channels();
        let (id, visitor) = if self.signed_in {
            let v = app.signed_in(Role::Seller, &self.email).await;
            let id = waybill::db::users::find_by_email(&mut app.conn(), &self.email)
                .unwrap()
                .unwrap()
                .id;
            (id, Some(v))
        } else {
            (app.create_user(Role::Seller, &self.email).id, None)
        };
        if self.fen > 0 {
            app.post(&id, Kind::TopUp, self.fen, &format!("fund-{}", self.email))
                .unwrap();
        }
        let key = self.key.then(|| app.api_key(&id));
        if self.address {
            match (&key, &visitor) {
                (Some(k), _) => {
                    let r = app.api_post(k, "/addresses", &sender()).await;
                    assert_eq!(r.status(), 201);
                }
                (None, Some(v)) => {
                    let r = v
                        .submit(
                            "/seller/addresses",
                            "/seller/addresses",
                            &[
                                ("name", "Li Wei"),
                                ("street1", "18 Keyuan Rd"),
                                ("city", "Shenzhen"),
                                ("postal_code", "518057"),
                                ("country", "CN"),
                                ("phone", "13800138000"),
                            ],
                        )
                        .await;
                    assert_eq!(location(&r), "/seller/addresses");
                }
                (None, None) => panic!("an address needs .with_key() or .signed_in()"),
            }
        }
        SellerFixture {
            id: id.into_string(),
            email: self.email,
            key,
            visitor,
        }
    }
}

/// A booking request body: `Booking::on("CNPOST-RAM").weight(455).json()`.
pub struct Booking {
    body: Value,
}

impl Booking {
    /// A lamp to Berlin, declared for customs, on `channel`, with a reference of its own
    /// (a seller's references are unique among its open shipments).
    pub fn on(channel: &str) -> Booking {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(10_042);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Booking {
            body: json!({
                "channel": channel,
                "reference": format!("ORD-{n}"),
                "recipient": {"name": "Anna Müller", "street1": "Friedrichstraße 12", "city": "Berlin",
                              "postal_code": "10117", "country": "DE", "phone": "+49 30 1234567",
                              "email": "anna@example.de"},
                "parcel": {"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50},
                "customs": {"contents_type": "merchandise", "items": [
                    {"description": "LED desk lamp", "quantity": 1, "unit_value": "24.90", "currency": "USD",
                     "weight_g": 400, "hs_code": "9405.20", "origin_country": "CN"}]}
            }),
        }
    }

    pub fn weight(mut self, grams: i64) -> Self {
        self.body["parcel"]["weight_g"] = json!(grams);
        self.body["customs"]["items"][0]["weight_g"] = json!(grams.clamp(1, 400));
        self
    }

    pub fn reference(mut self, r: &str) -> Self {
        self.body["reference"] = json!(r);
        self
    }

    pub fn no_reference(mut self) -> Self {
        self.body.as_object_mut().unwrap().remove("reference");
        self
    }

    pub fn set(mut self, pointer: &str, value: Value) -> Self {
        *self.body.pointer_mut(pointer).expect("no such field") = value;
        self
    }

    pub fn json(self) -> Value {
        self.body
    }
}

/// A `Booking` is sent as its JSON body (so `book` takes either).
impl serde::Serialize for Booking {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}
