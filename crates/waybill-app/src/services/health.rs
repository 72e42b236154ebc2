//! Whether the database answers, for load balancers and monitors.

use diesel::connection::SimpleConnection;
use waybill_db::DbConn;

use crate::error::AppError;

pub fn database(conn: &mut DbConn) -> Result<(), AppError> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}
